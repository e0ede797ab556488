"""Administrators manage counties, municipalities and contacts; every change is in the history."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from . import services
from .models import Contact, County, CountyProject, Membership, Municipality


@admin.register(County)
class CountyAdmin(SimpleHistoryAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]


@admin.register(Municipality)
class MunicipalityAdmin(SimpleHistoryAdmin):
    list_display = ["code", "name", "county"]
    list_filter = ["county"]
    search_fields = ["code", "name"]
    list_select_related = ["county"]


@admin.register(Contact)
class ContactAdmin(SimpleHistoryAdmin):
    list_display = ["name", "title", "email", "municipality", "is_active", "language"]
    list_filter = ["is_active", "language", "municipality__county"]
    search_fields = ["name", "email", "municipality__name"]
    list_select_related = ["municipality"]
    autocomplete_fields = ["municipality"]

    def has_delete_permission(self, request, obj=None):
        # Contacts are referenced by the public record; deactivate instead.
        return False


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ["user"]


@admin.register(CountyProject)
class CountyProjectAdmin(SimpleHistoryAdmin):
    """A county's project and who has which role in it; the role groups follow the members."""

    list_display = ["name", "county"]
    list_select_related = ["county"]
    search_fields = ["name", "county__name", "county__code"]
    inlines = [MembershipInline]

    def save_formset(self, request, form, formset, change):
        users = {m.user for m in formset.queryset}  # before: removed members lose their groups
        super().save_formset(request, form, formset, change)
        users |= {m.user for m in formset.queryset.model.objects.filter(project=form.instance)}
        for user in users:
            services.sync_role_groups(user)
