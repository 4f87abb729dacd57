"""What ``OPTIONS`` answers on every API route."""

from rest_framework.metadata import BaseMetadata


class EnvelopeMetadata(BaseMetadata):
    """``OPTIONS`` answers which media types a route renders and parses (``Allow`` lists its
    methods). DRF's default also introspects serializers and objects, which needs a queryset
    that our viewsets do not have (a 500 before)."""

    def determine_metadata(self, request, view):
        return {
            "name": view.get_view_name(),
            "renders": [renderer.media_type for renderer in view.renderer_classes],
            "parses": [parser.media_type for parser in view.parser_classes],
        }
