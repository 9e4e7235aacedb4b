"""An item's documents (文书: 交办通知单, 催办通知单) as .docx, and its archive (立卷归档) as .zip.

Who may have them is the item's visibility (engine/access.py): anyone else gets 404.
"""
from __future__ import annotations

import io

from flask import send_file
from flask.views import MethodView
from marshmallow import Schema, fields

from engine.services import archive, documents

from .common import actor, authenticated_blueprint, duban

blp = authenticated_blueprint("documents", __name__, "Documents (文书) and archives (立卷归档) of items", "/items")


class DocumentSchema(Schema):
    id = fields.Integer(metadata={"description": "the id of the history entry the document was issued in"})
    item_id = fields.Integer()
    kind = fields.String(metadata={"description": "assign_notice (交办通知单) or urge_notice (催办通知单)"})
    kind_name = fields.String()
    number = fields.String(metadata={"description": "发文字号, e.g. 督交〔2026〕3号"})
    unit = fields.String(allow_none=True,
                         metadata={"description": "the urged unit; none for a 交办通知单 (every unit)"})
    unit_name = fields.String(metadata={"description": "to whom: the unit, or every unit with its role"})
    created_at = fields.DateTime()
    created_by = fields.String(allow_none=True)
    text = fields.String(metadata={"description": "the notice as submitted"})
    filename = fields.String()


def _binary(content_type: str, description: str) -> dict:
    return {"200": {"description": description,
                    "content": {content_type: {"schema": {"type": "string", "format": "binary"}}}}}


@blp.route("/<int:item_id>/documents")
class Documents(MethodView):
    @blp.response(200, DocumentSchema(many=True))
    def get(self, item_id):
        """The item's documents, oldest first: its 交办通知单 and every 催办通知单"""
        return documents.list_documents(duban(), actor(), item_id)


@blp.route("/<int:item_id>/documents/<int:doc_id>.docx")
class DocumentFile(MethodView):
    @blp.response(200, content_type=documents.DOCX)
    @blp.doc(responses=_binary(documents.DOCX, "The document as a Word file, filled from its template"))
    def get(self, item_id, doc_id):
        """One document as .docx (red-headed, numbered, dated), filled from bpmn/templates or its override"""
        listing, data = documents.render_document(duban(), actor(), item_id, doc_id)
        return send_file(io.BytesIO(data), mimetype=documents.DOCX, as_attachment=True,
                         download_name=listing["filename"])


@blp.route("/<int:item_id>/archive.zip")
class Archive(MethodView):
    @blp.response(200, content_type=archive.ZIP)
    @blp.doc(responses=_binary(archive.ZIP, "The item's file: record, documents, reports, history, SHA-256 manifest"))
    def get(self, item_id):
        """立卷归档: a closed or terminated item's file as .zip (409 while it is open); audited"""
        filename, data = archive.archive_item(duban(), actor(), item_id)
        return send_file(io.BytesIO(data), mimetype=archive.ZIP, as_attachment=True, download_name=filename)
