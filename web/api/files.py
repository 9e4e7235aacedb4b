"""佐证材料: upload a file, download it, list an item's files.

Who may have a file is its item's visibility (engine/access.py), or its uploader's alone while it
belongs to no item: anyone else gets 404.
"""
from __future__ import annotations

import io

from flask import request, send_file
from flask.views import MethodView

from engine.errors import InvalidInput
from engine.services import files
from engine.texts import text

from .common import actor, authenticated_blueprint, duban
from .schemas import FileQuery, FileUpload, FileUploadForm, StoredFileSchema

blp = authenticated_blueprint("files", __name__, "Files (佐证材料) attached to items and forms", "")


@blp.route("/files")
class Files(MethodView):
    @blp.arguments(FileUpload, location="files")
    @blp.arguments(FileUploadForm, location="form")
    @blp.response(201, StoredFileSchema)
    def post(self, _files, form):
        """Upload one file (multipart `file`, optional `item_id`); its type is read from its content"""
        upload = request.files.get("file")
        if upload is None:
            raise InvalidInput(text("file.missing"), [{"field": "file", "message": text("file.missing")}])
        limit = duban().settings.max_file_bytes
        # Read one byte past the limit: enough to know it is too large without holding more.
        data = upload.stream.read(limit + 1)
        return files.upload(duban(), actor(), upload.filename, data, form.get("item_id"))


@blp.route("/files/<int:file_id>")
class FileResource(MethodView):
    @blp.arguments(FileQuery, location="query")
    @blp.response(200, content_type="application/octet-stream")
    @blp.doc(responses={"200": {"description": "The file's bytes, as an attachment (inline for PDF and images "
                                               "with inline=1); the download is audited",
                                "content": {"application/octet-stream": {"schema": {"type": "string",
                                                                                    "format": "binary"}}}}})
    def get(self, query, file_id):
        """Download a file (Content-Disposition with the UTF-8 file name)"""
        listing, data = files.download(duban(), actor(), file_id)
        inline = query["inline"] and listing["content_type"] in files.INLINE
        response = send_file(io.BytesIO(data), mimetype=listing["content_type"], as_attachment=not inline,
                             download_name=listing["name"])
        if not inline:
            # Saved, never rendered: should a browser open it anyway, it runs nothing.
            response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
        return response


@blp.route("/items/<int:item_id>/files")
class ItemFiles(MethodView):
    @blp.response(200, StoredFileSchema(many=True))
    def get(self, item_id):
        """The files of an item, oldest first"""
        return files.list_item_files(duban(), actor(), item_id)
