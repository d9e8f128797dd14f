app_name = "pharmacy"

urlpatterns: list = []
