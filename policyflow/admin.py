"""The administration site, for superusers only.

Django's admin lists every county's rows; PolicyFlow's roles are per county
(`municipalities.scoping`), and scoping each admin page would be a second access model to keep in
step. So the admin is the superusers' tool (they read every county anyway): staff accounts
without superuser status are refused, and people work through the app's own, scoped pages.
"""

from django.contrib.admin import AdminSite
from django.contrib.admin.apps import AdminConfig


class SuperuserAdminSite(AdminSite):
    def has_permission(self, request):
        return request.user.is_active and request.user.is_superuser


class PolicyFlowAdminConfig(AdminConfig):
    default_site = "policyflow.admin.SuperuserAdminSite"
