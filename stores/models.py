"""`::hot::store` maps: persistent, insertion-ordered, scoped to an environment (as Hot
scopes them: every project of the environment sees the same maps by name)."""

from django.db import models

from hotapi.ids import uuid7


class StoreMap(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    environment = models.ForeignKey(
        "environments.Environment", on_delete=models.CASCADE, related_name="stores"
    )
    name = models.CharField(max_length=255)
    # JSON bytes of keys and values, kept with every write: the quota reads it
    bytes = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["environment", "name"]
        constraints = [
            models.UniqueConstraint(fields=["environment", "name"], name="uniq_store_env_name")
        ]

    def __str__(self) -> str:
        return self.name


class StoreEntry(models.Model):
    # the auto-increment id is the insertion order: an update keeps it
    id = models.BigAutoField(primary_key=True)
    map = models.ForeignKey(StoreMap, on_delete=models.CASCADE, related_name="entries")
    key_hash = models.CharField(max_length=64, help_text="SHA-256 of the key's JSON")
    key = models.TextField(help_text="the key's canonical JSON")
    value = models.JSONField(null=True)
    text = models.TextField(blank=True, default="", help_text="indexed for keyword search")
    vector = models.JSONField(null=True, blank=True, help_text="embedding, for semantic search")
    size = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["map", "id"]
        constraints = [
            models.UniqueConstraint(fields=["map", "key_hash"], name="uniq_store_entry_key")
        ]

    def __str__(self) -> str:
        return self.key
