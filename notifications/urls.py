"""URLs of the delivery log."""

from django.urls import path

from . import views

app_name = "notifications"

urlpatterns = [
    path("", views.DeliveryLogView.as_view(), name="log"),
    path("<int:pk>/retry/", views.RetryNotificationView.as_view(), name="retry"),
]
