"""`ckan tenant ...`: the municipalities as CKAN organisations (registered by the cli blanket)."""
from pathlib import Path

import click

import ckan.plugins.toolkit as tk

from ckanext.tenant import tenants as tenants_file

__all__ = ["tenant"]


@click.group(short_help="Municipalities (tenants) as organisations")
def tenant():
    """Manage the platform's municipalities (tenants)."""


@tenant.command()
@click.option("--file", "path", type=click.Path(dir_okay=False), default=None,
              help="tenants file (default: ckanext.tenant.tenants_file)")
def sync(path):
    """Create or update the organisations of the tenants file (logo files are uploaded as their images)."""
    path = Path(path) if path else tenants_file.tenants_file()
    try:
        tenants = tenants_file.load(path)
        tenants_file.validate(tenants, path)
    except tenants_file.EntriesFileError as error:
        raise click.ClickException(f"{error}. Nothing was changed.")
    report = tenants_file.sync(tenants)
    for line in report.summary():
        click.echo(line)
    for name in report.not_in_file:
        click.secho(f"not in the tenants file (kept, with its data): {name}", fg="yellow")


@tenant.command(name="list")
def list_tenants():
    """List the tenants' organisations with their keys, datasets and members."""
    organizations = tenants_file.all_organizations(
        {"ignore_auth": True}, {"all_fields": True, "include_extras": True, "include_member_count": True,
                                "include_dataset_count": True})
    for org in organizations:
        if org.get("official_key"):
            click.echo(f"{org['name']:<28} {org['official_key']:<9} {org.get('kind', ''):<20} "
                       f"{org.get('package_count', 0):>5} datasets {org.get('member_count', 0):>3} members  "
                       f"{org['title']}")


@tenant.command(name="add-user")
@click.argument("user")
@click.argument("tenant_name", metavar="TENANT")
@click.option("--role", type=click.Choice(["admin", "editor", "member"]), default="editor", show_default=True)
def add_user(user, tenant_name, role):
    """Give USER a ROLE in TENANT."""
    try:
        tenants_file.add_user(user, tenant_name, role)
    except tk.ObjectNotFound as error:
        raise click.ClickException(f"not found: {error.message or error}")
    except tk.ValidationError as error:
        raise click.ClickException(str(error.error_summary))
    click.echo(f"{user} is now {role} of {tenant_name}")
