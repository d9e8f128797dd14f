app_name = "sampling"
urlpatterns = []
