"""The floor for the registration benchmark: a bare Flask endpoint that validates a similar
body with marshmallow and inserts one row, on the same database and server settings."""
from __future__ import annotations

import os

import sqlalchemy as sa
from flask import Flask, request
from flask_sqlalchemy import SQLAlchemy
from marshmallow import Schema, ValidationError, fields, validate


class Body(Schema):
    first_name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    last_name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    email = fields.Email(required=True)
    organisation = fields.String(allow_none=True)
    position = fields.String(allow_none=True)
    city = fields.String(allow_none=True)
    country = fields.String(allow_none=True)
    language = fields.String(load_default="en")
    consent = fields.Boolean(required=True)


db = SQLAlchemy(session_options={"expire_on_commit": False})


class Row(db.Model):
    __tablename__ = "bench_floor_registration"
    id = db.Column(db.Integer, primary_key=True)
    email = db.Column(db.String(254))
    first_name = db.Column(db.String(100))
    last_name = db.Column(db.String(100))
    data = db.Column(sa.JSON)


def create_app() -> Flask:
    app = Flask(__name__)
    url = os.environ["BENCH_DATABASE_URL"]
    app.config["SQLALCHEMY_DATABASE_URI"] = url
    if url.startswith("sqlite"):
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": {"timeout": 30}}
    db.init_app(app)

    @app.post("/register")
    def register():
        try:
            data = Body().load(request.get_json())
        except ValidationError as error:
            return {"errors": error.messages}, 422
        row = Row(email=data["email"], first_name=data["first_name"], last_name=data["last_name"], data=data)
        db.session.add(row)
        db.session.commit()
        return {"id": row.id, "status": "confirmed"}, 201

    return app
