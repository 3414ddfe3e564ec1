from plnorg import permissions as perm

app_name = "workshops"

perm.register({})

urlpatterns: list = []
