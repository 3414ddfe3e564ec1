"""Moving a model to another app without touching its table.

The model keeps its table (`db_table`); the new app's migration creates it in
Django's state only (`SeparateDatabaseAndState`), the old app's migration
deletes it there, and `MoveContentTypes` gives its content type the new app
label, so admin log entries, permissions and the groups holding them keep
pointing at it. Used by the migrations of the layout change (issue 21).
"""

from __future__ import annotations

from django.db import migrations


class MoveContentTypes(migrations.RunPython):
    """A migration operation: the content types of `models` ((old app label,
    model name) pairs) take the app label `to`; backwards, they move back.

    A content type already under the target label (a database set up after
    the move) has nothing to take over: both are left as they are."""

    def __init__(self, *, models: list[tuple[str, str]], to: str) -> None:
        self.models = [tuple(pair) for pair in models]
        self.to = to
        super().__init__(self.forwards, self.backwards, elidable=False)

    def deconstruct(self):
        return (self.__class__.__qualname__, [], {"models": self.models, "to": self.to})

    def describe(self) -> str:
        return f"Move the content types of {len(self.models)} models to {self.to}"

    def forwards(self, apps, schema_editor) -> None:
        self._move(apps, schema_editor, moves=[(old, self.to, model) for old, model in self.models])

    def backwards(self, apps, schema_editor) -> None:
        self._move(apps, schema_editor, moves=[(self.to, old, model) for old, model in self.models])

    @staticmethod
    def _move(apps, schema_editor, *, moves: list[tuple[str, str, str]]) -> None:
        ContentType = apps.get_model("contenttypes", "ContentType")
        types = ContentType.objects.db_manager(schema_editor.connection.alias)
        for source, target, model in moves:
            if not types.filter(app_label=target, model=model).exists():
                types.filter(app_label=source, model=model).update(app_label=target)
        ContentType.objects.clear_cache()
