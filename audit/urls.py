"""URLs of the audit trail: timelines, exports, and the administrator's personal-data pages."""

from django.urls import path

from . import views

app_name = "audit"

urlpatterns = [
    path("", views.TimelineView.as_view(), name="timeline"),
    path("export.csv", views.CsvExportView.as_view(), name="export_csv"),
    path("archive.zip", views.ArchiveExportView.as_view(), name="archive"),
    path("processes/<int:pk>/", views.ProcessTimelineView.as_view(), name="process"),
    path("processes/<int:pk>/export.csv", views.CsvExportView.as_view(), name="process_csv"),
    path("municipalities/<int:pk>/", views.MunicipalityTimelineView.as_view(), name="municipality"),
    path(
        "municipalities/<int:pk>/export.csv",
        views.CsvExportView.as_view(),
        name="municipality_csv",
    ),
    path("people/", views.PeopleView.as_view(), name="people"),
    path("people/<int:pk>/", views.PersonView.as_view(), name="person"),
    path("people/<int:pk>/export/", views.PersonExportView.as_view(), name="person_export"),
    path(
        "people/<int:pk>/pseudonymise/",
        views.PseudonymiseView.as_view(),
        name="person_pseudonymise",
    ),
]
