/// The API description served at `/openapi.yaml` (the repository's `openapi.yaml`, embedded at build time).
enum OpenAPI {
    static let text = String(decoding: PackageResources.openapi_yaml, as: UTF8.self)
}
