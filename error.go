package kycd

import (
	"errors"
	"fmt"
)

// Error codes shared by every surface. A surface maps each code to an HTTP
// status in one table (api/errors.go); codes not in that table are business
// rule refusals (409). Codes follow Uphold's vocabulary where it has one.
const (
	ERequestInvalid         = "request_invalid"           // malformed or invalid input; carries Violations
	ENotFound               = "entity_not_found"          // the entity does not exist for this tenant; Details["entity"]
	EOperationNotAllowed    = "operation_not_allowed"     // a rule forbids the operation; Details["reasons"]
	ETokenInvalid           = "token_invalid"             // the access token cannot be verified
	ETokenExpired           = "token_expired"             // the access token's lifetime is over
	ETokenRevoked           = "token_revoked"             // the token's client was revoked
	ETokenInsufficientScope = "token_insufficient_scopes" // the token lacks a scope the route needs
	ETooManyRequests        = "too_many_requests"         // the client's rate limit is exhausted
	EContentTooLarge        = "content_too_large"         // the body is over its size cap
	ERequestTimeout         = "request_timeout"           // the body arrived slower than the server waits for
	EUnsupportedMediaType   = "unsupported_media_type"    // the body's content type is not accepted
	EMethodNotAllowed       = "method_not_allowed"        // the route exists but not for that method
	EInternal               = "internal_server_error"     // anything unexpected; never carries internals
	EConflict               = "conflict"                  // a uniqueness rule was broken (names)
	EAlreadyApplied         = "already_applied"           // a submission with this idempotency key was applied before
	EServiceUnavailable     = "service_unavailable"       // a service kycd depends on did not answer; try again shortly
	EConcurrentChange       = "concurrent_change"         // other changes of the entity won every try; nothing was applied: send it again (409, Retry-After)

	// Business rule codes of the users and files routes (409).
	EEmailAlreadyExists        = "email_already_exists"
	EPhoneAlreadyExists        = "phone_already_exists"
	EPhoneInvalid              = "phone_invalid"
	ECountryNotSupported       = "country_not_supported"
	ESubdivisionNotSupported   = "subdivision_not_supported"
	ESubdivisionRequired       = "subdivision_required"
	EDateInvalid               = "date_invalid"
	EFileContentTypeNotAllowed = "file_content_type_not_allowed"
	EFileContentTypeMismatch   = "file_content_type_mismatch"
	EFileTooLarge              = "file_too_large"
	EFileTooSmall              = "file_too_small"
	EFileAlreadyUploaded       = "file_already_uploaded"
	EMaxFilesLimitExceeded     = "max_files_limit_exceeded"
	EUploadURLInvalid          = "upload_url_invalid"
	ETermsOfServiceMismatch    = "terms_of_service_mismatch"

	// Business rule codes of the KYC processes (409).
	EPOBoxesNotAllowed              = "po_boxes_not_allowed"
	EPostalCodeInvalid              = "postal_code_invalid"
	EInvalidCharacters              = "invalid_characters"
	EFileInvalid                    = "file_invalid"
	ELocaleInvalid                  = "locale_invalid"
	EEmailIncorrectOrDisallowed     = "email_incorrect_or_disallowed"
	EDocumentNumberInvalid          = "document_number_invalid"
	EDocumentReasonNotSupported     = "document_reason_not_supported"
	ECertificationSignatureMismatch = "certification_signature_mismatch"
	ECodeInvalid                    = "code_invalid"
	ECodeExpired                    = "code_expired"
)

// Violation is one problem with one input property, in Uphold's vocabulary:
// property is a dotted path ("address.country"), rule a stable name
// ("required", "type", "pattern", "enum", "additionalProperties", ...), and
// RuleParams the rule's parameters ({"type": "string"}).
type Violation struct {
	Property   string         `json:"property"`
	Rule       string         `json:"rule"`
	RuleParams map[string]any `json:"ruleParams,omitempty"`
}

// Error is the application error: a machine code, a message safe to show to a
// client, optional details and field violations. Any other error reaching a
// surface is rendered as an internal error and logged in full.
type Error struct {
	Code       string
	Message    string
	Details    map[string]any
	Violations []Violation
	// Context says where the violations are: "body", "headers", "query", "params".
	Context string
}

// Error implements the error interface.
func (e *Error) Error() string {
	return fmt.Sprintf("kycd error: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// NotFound returns the entity_not_found error for an entity kind ("user").
func NotFound(entity string) *Error {
	return &Error{
		Code:    ENotFound,
		Message: fmt.Sprintf("The %s cannot be found", entity),
		Details: map[string]any{"entity": entity},
	}
}

// Invalid returns a request_invalid error with the violations found in the
// given context ("body", "headers", "query", "params").
func Invalid(context string, violations ...Violation) *Error {
	return &Error{
		Code:       ERequestInvalid,
		Message:    "The request has missing or invalid parameters",
		Context:    context,
		Violations: violations,
	}
}

// NotAllowed returns an operation_not_allowed error with stable reasons.
func NotAllowed(message string, reasons ...string) *Error {
	return &Error{Code: EOperationNotAllowed, Message: message, Details: map[string]any{"reasons": reasons}}
}

// Contended is the refusal of a change that lost its race with other
// changes of the same entity ("user", "kyc-application") more often than
// kycd computes a change again: nothing was applied, and the request may be
// sent again (surfaces add Retry-After). Its reason is "concurrent-change".
func Contended(entity string) *Error {
	return &Error{
		Code:    EConcurrentChange,
		Message: fmt.Sprintf("The %s was changed by other requests at the same time; nothing was applied: send the request again", entity),
		Details: map[string]any{"entity": entity, "reasons": []string{"concurrent-change"}},
	}
}

// ErrorCode returns the code of an application error, or EInternal.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EInternal
}

// AsError returns the application error inside err, if there is one.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}
