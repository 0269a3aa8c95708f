package campaigns

import (
	"errors"
	"fmt"
)

// Error kinds. Wrap them with Errorf or Invalid so that callers can test with errors.Is, and so that
// the HTTP edge can map them to a status (ErrInvalid 400/422, ErrNotFound 404, ErrConflict 409).
var (
	// ErrInvalid means the caller's input is wrong: a field, a value, a file.
	ErrInvalid = errors.New("invalid")
	// ErrNotFound means the thing asked for does not exist (or no longer exists: erased).
	ErrNotFound = errors.New("not found")
	// ErrConflict means the request collides with the current state: a code already redeemed,
	// a campaign that cannot be paused because it has finished.
	ErrConflict = errors.New("conflict")
	// ErrForbidden means the acting user may not do this.
	ErrForbidden = errors.New("forbidden")
	// ErrNoRegisterKey means a change needs the key of the register's keyed hashes (the
	// suppression list, erased members) and the process was given none.
	ErrNoRegisterKey = errors.New("DISPATCH_SUPPRESSION_KEY is not set: it is the key of the suppression list's hashes, needed to add to the list, import or erase members")
	// ErrRegisterKeyMismatch means the key given is not the one the register's hashes were made with.
	ErrRegisterKeyMismatch = errors.New("DISPATCH_SUPPRESSION_KEY is not the key this register's suppression list was made with (its fingerprint differs): set the original key; with another one no address would match the list")
)

// kindError carries a human message and a kind; its Error() is the message alone, so that the
// command line and the API can print it as the one clear line the user reads.
type kindError struct {
	kind error
	msg  string
}

func (e *kindError) Error() string        { return e.msg }
func (e *kindError) Is(target error) bool { return target == e.kind }

// Errorf returns an error of the given kind (ErrInvalid, ErrNotFound, ...) whose message is the
// formatted text, without the kind's name prefixed.
func Errorf(kind error, format string, args ...any) error {
	return &kindError{kind: kind, msg: fmt.Sprintf(format, args...)}
}

// FieldError is an ErrInvalid problem with one field of the input. Field names the field the way
// the input spells it ("name", "channels[1]", "coupon.valid_days", "segment.postal_codes[0]");
// Reason says what is wrong, for people. Its message is "field: reason", and errors.Is(err,
// ErrInvalid) holds. A check that finds several problems returns them together with errors.Join;
// FieldErrors lists them back.
type FieldError struct {
	Field  string
	Reason string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Reason }

// Is makes a FieldError an ErrInvalid.
func (e *FieldError) Is(target error) bool { return target == ErrInvalid }

// Invalid returns an ErrInvalid error naming the field that is wrong: a *FieldError, whose message
// is "field: reason".
func Invalid(field, reason string) error {
	return &FieldError{Field: field, Reason: reason}
}

// FieldErrors returns every *FieldError in err's tree (wrapped with %w, or joined with errors.Join),
// in order; none when err is nil or names no field.
func FieldErrors(err error) []*FieldError {
	var out []*FieldError
	var walk func(error)
	walk = func(err error) {
		if err == nil {
			return
		}
		if fe, ok := err.(*FieldError); ok {
			out = append(out, fe)
			return
		}
		switch u := err.(type) {
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				walk(e)
			}
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		}
	}
	walk(err)
	return out
}

// joinInvalid returns the problems found as one error: nil for none, the problem itself for one
// (its message unchanged), errors.Join of them for several (one "field: reason" a line).
func joinInvalid(problems []error) error {
	switch len(problems) {
	case 0:
		return nil
	case 1:
		return problems[0]
	}
	return errors.Join(problems...)
}
