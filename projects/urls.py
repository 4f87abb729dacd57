from rest_framework.routers import SimpleRouter

from .views import ProjectViewSet

router = SimpleRouter()
router.trailing_slash = "/?"  # the SDK sends no trailing slash; accept both
router.register("projects", ProjectViewSet, basename="project")
urlpatterns = router.urls
