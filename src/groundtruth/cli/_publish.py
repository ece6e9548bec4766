"""`gt card` and `gt croissant`: publish a version's metadata next to its data."""

from __future__ import annotations

import posixpath

import click

from ._common import working


def _target(dataset: str, output: str | None, name: str) -> str:
    if output:
        return output
    from ..io import MANIFEST, resolve

    fs, path = resolve(dataset)
    if posixpath.basename(path) == MANIFEST:
        return posixpath.join(posixpath.dirname(dataset), name)
    if path.endswith(".zip") or not fs.isdir(path):
        raise click.UsageError(f"{dataset} is not a folder: give the file to write with "
                               f"--output, e.g. --output {name}")
    return posixpath.join(dataset.rstrip("/"), name)


@click.command("card")
@click.argument("dataset")
@click.option("--output", "output", metavar="FILE", default=None,
              help="Where to write the card (default DATASET/README.md); `-` prints it.")
@click.option("--overwrite", is_flag=True, help="Replace an existing card.")
def card_cmd(dataset: str, output: str | None, overwrite: bool) -> None:
    """Write a Hugging Face dataset card (README.md) for the native dataset DATASET.

    The YAML header (licence, task categories, size category, `configs` naming the data parts)
    lets `datasets.load_dataset(DATASET)` read the folder; the body lists the taxonomy,
    annotators, guidelines, agreement figures, splits and lineage.
    """
    from ..diff import check_target, publish
    from ..publish import dataset_card

    target = None if output == "-" else _target(dataset, output, "README.md")
    if target:
        check_target(target, overwrite=overwrite)
    with working(f"reading {dataset}"):
        card = dataset_card(dataset)
    if target is None:
        click.echo(card.text, nl=False)
        return
    publish(card.text.encode(), target, overwrite=overwrite)
    click.echo(f"wrote {target}")
    for note in card.notes:
        click.echo(f"note: {note}", err=True)


@click.command("croissant")
@click.argument("dataset")
@click.option("--output", "output", metavar="FILE", default=None,
              help="Where to write it (default DATASET/croissant.json); `-` prints it.")
@click.option("--url", "public_url", metavar="URL", default=None,
              help="The dataset's public URL for the `url` field (default: DATASET as given).")
@click.option("--overwrite", is_flag=True, help="Replace an existing file.")
def croissant_cmd(dataset: str, output: str | None, public_url: str | None,
                  overwrite: bool) -> None:
    """Write Croissant 1.1 JSON-LD metadata (with RAI fields) for the native dataset DATASET.

    Its record sets `items` and `annotations` read the data parts in place; columns Croissant
    cannot type (structs, nested lists, maps) are named in the description and on stderr.
    """
    import orjson

    from ..diff import check_target, publish
    from ..publish import croissant

    target = None if output == "-" else _target(dataset, output, "croissant.json")
    if target:
        check_target(target, overwrite=overwrite)
    with working(f"reading {dataset}"):
        doc, undescribed = croissant(dataset, public_url=public_url)
    data = orjson.dumps(doc, option=orjson.OPT_INDENT_2) + b"\n"
    if target is None:
        click.echo(data.decode(), nl=False)
    else:
        publish(data, target, overwrite=overwrite)
        click.echo(f"wrote {target}")
    if undescribed:
        click.echo(f"note: not described (no Croissant type): {', '.join(undescribed)}", err=True)
