app_name = "adr"
urlpatterns = []
