app_name = "sentinel"

urlpatterns: list = []
