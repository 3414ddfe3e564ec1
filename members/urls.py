from plnorg import permissions as perm

app_name = "members"

perm.register({})

urlpatterns: list = []
