"""Downloads from an item's page: its documents (/items/<id>/documents/<doc>.docx) and archive (.zip).

The same files as the API's, with the session's visibility; refusals (404, 409) come as pages.
"""
from __future__ import annotations

import io

from flask import send_file

from engine.services import archive, documents

from .common import current_actor, duban


def routes(bp) -> None:
    bp.add_url_rule("/items/<int:item_id>/documents/<int:doc_id>.docx", "item_document", document)
    bp.add_url_rule("/items/<int:item_id>/archive.zip", "item_archive", item_archive)


def document(item_id, doc_id):
    listing, data = documents.render_document(duban(), current_actor(), item_id, doc_id)
    return send_file(io.BytesIO(data), mimetype=documents.DOCX, as_attachment=True, download_name=listing["filename"])


def item_archive(item_id):
    filename, data = archive.archive_item(duban(), current_actor(), item_id)
    return send_file(io.BytesIO(data), mimetype=archive.ZIP, as_attachment=True, download_name=filename)
