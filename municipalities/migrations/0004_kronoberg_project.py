"""Existing data becomes Kronoberg's: its project, with the leaders and steering group as members.

Before counties had projects, everyone in the "Project leaders" or "Steering group" group worked
on Kronoberg (07). On a new, empty database there is no county yet: `seed_kronoberg` creates the
project after loading the municipality list.
"""

from django.db import migrations

KRONOBERG = "07"
GROUP_ROLES = {"Project leaders": "leader", "Steering group": "steering"}


def forwards(apps, schema_editor):
    County = apps.get_model("municipalities", "County")
    CountyProject = apps.get_model("municipalities", "CountyProject")
    Membership = apps.get_model("municipalities", "Membership")
    Group = apps.get_model("auth", "Group")
    county = County.objects.filter(code=KRONOBERG).first()
    if county is None:
        return
    project, _created = CountyProject.objects.get_or_create(
        county=county, defaults={"name": "ASF i Kronoberg"}
    )
    # A person in both groups leads (the stronger role).
    for group_name in ["Steering group", "Project leaders"]:
        group = Group.objects.filter(name=group_name).first()
        if group is None:
            continue
        for user in group.user_set.all():
            Membership.objects.update_or_create(
                user=user, project=project, defaults={"role": GROUP_ROLES[group_name]}
            )


class Migration(migrations.Migration):
    dependencies = [
        ("municipalities", "0003_county_projects_and_memberships"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
