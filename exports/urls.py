from django.urls import path

from . import views

app_name = "exports"

urlpatterns = [
    path("new/<str:kind>/", views.RequestExportView.as_view(), name="request"),
    path("<int:pk>/", views.JobView.as_view(), name="job"),
    path("<int:pk>/download/", views.DownloadView.as_view(), name="download"),
]
