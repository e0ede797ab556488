"""URLs of knowledge spreading (kunskapsspridning)."""

from django.urls import path

from . import views

app_name = "outreach"

urlpatterns = [
    path("", views.ActivityListView.as_view(), name="activities"),
    path("new/", views.ActivityCreateView.as_view(), name="activity_create"),
    path("<int:pk>/", views.ActivityDetailView.as_view(), name="activity"),
    path("<int:pk>/edit/", views.ActivityEditView.as_view(), name="activity_edit"),
]
