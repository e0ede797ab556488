"""URLs of the delivery log."""

from django.urls import path

from . import views

app_name = "notifications"

urlpatterns = [
    path("", views.DeliveryLogView.as_view(), name="log"),
    path("preferences/", views.EmailPreferenceView.as_view(), name="preferences"),
    path("<int:pk>/retry/", views.RetryNotificationView.as_view(), name="retry"),
    # The quick start's mailbox: a 404 unless DEBUG is on and emails are written as files.
    path("files/", views.EmailFilesView.as_view(), name="email_files"),
]
