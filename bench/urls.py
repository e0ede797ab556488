"""The app's URLs plus /bench/minimal/, the reference page the pages are measured against."""

from django.urls import include, path

from . import views

urlpatterns = [
    path("bench/minimal/", views.MinimalView.as_view(), name="bench_minimal"),
    path("", include("policyflow.urls")),
]
