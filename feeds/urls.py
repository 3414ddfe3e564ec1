from plnorg import permissions as perm

app_name = "feeds"

perm.register({})

urlpatterns: list = []
