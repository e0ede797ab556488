"""URLs of the follow-up of the whole project (uppföljning)."""

from django.urls import path

from . import views

app_name = "followup"

urlpatterns = [
    path("", views.FollowUpView.as_view(), name="page"),
    path("report.pdf", views.FollowUpPdfView.as_view(), name="pdf"),
    path("report.csv", views.FollowUpCsvView.as_view(), name="csv"),
]
