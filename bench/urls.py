"""The app's URLs plus the reference pages the pages are measured against: /bench/minimal/ and
/bench/layout/ (the same content in the site's layout)."""

from django.urls import include, path

from . import views

urlpatterns = [
    path("bench/minimal/", views.MinimalView.as_view(), name="bench_minimal"),
    path("bench/layout/", views.LayoutView.as_view(), name="bench_layout"),
    path("", include("policyflow.urls")),
]
