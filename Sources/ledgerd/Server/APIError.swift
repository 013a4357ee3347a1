import EventStore
import Foundation
import HTTPTypes
import Hummingbird
import Ledger
import NIOCore

/// An error as the API answers it (design.md, "Errors over HTTP"):
/// `{"error": {"code": "...", "message": "...", "details": {...}}}` with the status that fits.
struct APIError: Error, Sendable {
    let status: HTTPResponse.Status
    let code: String
    let message: String
    var details: [String: JSONValue] = [:]

    init(_ status: HTTPResponse.Status, _ code: String, _ message: String, details: [String: JSONValue] = [:]) {
        self.status = status
        self.code = code
        self.message = message
        self.details = details
    }

    /// The API's answer to any error a handler throws.
    static func from(_ error: any Error) -> APIError {
        switch error {
        case let e as APIError: return e
        case let e as LedgerError:
            switch e.code {
            case .badField:
                return APIError(.badRequest, e.code.rawValue, e.message, details: ["field": .string(e.field ?? "")])
            case .notFound: return APIError(.notFound, e.code.rawValue, e.message)
            default: return APIError(.unprocessableContent, e.code.rawValue, e.message)
            }
        case let e as StoreError:
            var details: [String: JSONValue] = [:]
            if let stream = e.stream { details["stream"] = .string(stream) }
            if let actual = e.actualVersion { details["actualVersion"] = .number(Double(actual)) }
            if let position = e.position { details["position"] = .number(Double(position)) }
            let status: HTTPResponse.Status = switch e.code {
            case .wrongExpectedVersion, .idempotencyConflict: .conflict
            case .eventTooLarge: .contentTooLarge
            case .invalidArgument: .badRequest
            case .notFound: .notFound
            case .diskFull, .closed: .serviceUnavailable
            default: .internalServerError
            }
            return APIError(status, e.code.rawValue, e.message, details: details)
        case is NIOTooManyBytesError:
            return APIError(.contentTooLarge, "body_too_large", "the request body is over the limit of 4 MiB")
        case let e as HTTPError where e.status == .notFound:
            return APIError(.notFound, "no_route", "no such route; the routes are listed at /openapi.yaml")
        case let e as HTTPError:
            let code = e.status == .contentTooLarge ? "body_too_large" : "http_\(e.status.code)"
            let message = e.status == .contentTooLarge
                ? "the request body is over the limit of 4 MiB" : (e.body ?? e.status.reasonPhrase)
            return APIError(e.status, code, message)
        default:
            return APIError(.internalServerError, "internal", "\(error)")
        }
    }

    /// The JSON body: `{"error": {"code", "message", "details"?}}`.
    var body: JSONValue {
        var error: [String: JSONValue] = ["code": .string(code), "message": .string(message)]
        if !details.isEmpty { error["details"] = .object(details) }
        return .object(["error": .object(error)])
    }

    /// The JSON response.
    var response: Response { JSONResponse.make(body, status: status) }
}

/// JSON responses with sorted keys.
enum JSONResponse {
    /// The content type of every JSON answer.
    static let contentType = "application/json; charset=utf-8"

    static func make(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        make(text: value.jsonText, status: status)
    }

    /// An answer whose JSON text is already written.
    static func make(text: [UInt8], status: HTTPResponse.Status = .ok) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = contentType
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: text)))
    }
}
