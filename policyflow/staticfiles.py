"""Static files: PolicyFlow's own assets, Django admin's, and not viewflow's Material frontend."""

from django.contrib.staticfiles.apps import StaticFilesConfig


class PolicyFlowStaticFilesConfig(StaticFilesConfig):
    # viewflow ships 49 MB of Material frontend assets that PolicyFlow's own templates never use
    # (docs/decisions/ui-kit.md); collecting and compressing them only slows every build.
    ignore_patterns = [*StaticFilesConfig.ignore_patterns, "viewflow/*"]
