"""`ckan harvest-sources ...`: the harvest-source catalogue (registered by the cli blanket)."""
from pathlib import Path

import click

from ckanext.suedwest import harvest_sources

__all__ = ["harvest_sources_group"]


@click.group(name="harvest-sources", short_help="The harvest-source catalogue (harvesters/sources.yaml)")
def harvest_sources_group():
    """Keep ckanext-harvest's sources in step with the reviewed catalogue."""


@harvest_sources_group.command()
@click.option("--file", "path", type=click.Path(dir_okay=False), default=None,
              help="catalogue file (default: ckanext.suedwest.harvest_sources_file)")
@click.option("--check", is_flag=True, help="only check the catalogue, change nothing")
def sync(path, check):
    """Create or update the harvest sources of the catalogue (a source not in it is reported, not deleted)."""
    path = Path(path) if path else harvest_sources.sources_file()
    try:
        sources = harvest_sources.load(path)
        harvest_sources.validate(sources, path)
    except harvest_sources.EntriesFileError as error:
        raise click.ClickException(f"{error}. Nothing was changed.")
    if check:
        click.echo(f"{path}: {len(sources)} sources, all valid")
        return
    report = harvest_sources.sync(sources)
    for line in report.summary():
        click.echo(line)
    for name in report.not_in_file:
        click.secho(f"not in the catalogue (kept, with its datasets): {name}", fg="yellow")
