from django.apps import AppConfig


class ArchiveConfig(AppConfig):
    name = "archive"
    verbose_name = "Interview archive"

    def ready(self):
        from archive import logs

        logs.stamp_request_ids()
