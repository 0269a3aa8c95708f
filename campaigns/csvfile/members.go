package csvfile

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/jacksmood/dispatch/campaigns"
	"github.com/jacksmood/dispatch/campaigns/phone"
)

// MemberColumns are the required columns of a member file, in the order SPEC.md gives them.
var MemberColumns = []string{"external_id", "first_name", "last_name", "email", "phone", "street",
	"postal_code", "city", "country", "language", "email_consent", "sms_consent", "postal_objection"}

// MemberOptionalColumns come with the population register's address update.
var MemberOptionalColumns = []string{"address_protected", "deceased"}

// MemberRow is one clean row of the file (campaigns.MemberRow).
type MemberRow = campaigns.MemberRow

// ReadMembers reads a member file and calls row for each clean row, in file order. Rows with a bad
// field are returned as RowErrors and not passed to row; a row repeating an earlier external_id is
// one of them. The error is a *FileError when the file cannot be trusted, or row's own error.
func ReadMembers(r io.Reader, name string, row func(MemberRow) error) ([]RowError, error) {
	t, err := openTable(r, name, MemberColumns, MemberOptionalColumns)
	if err != nil {
		return nil, err
	}
	return readRows(t, memberRow, "external_id", func(m MemberRow) string { return m.ExternalID }, row)
}

func memberRow(t *table) (MemberRow, []RowError) {
	return parseMember(t.line, t.get)
}

// MemberField checks one field of a member as ReadMembers checks it in a file, and returns the row
// that changes that field alone of the member externalID (every other field "no change"), for the
// store's import. field is a column of the member file other than external_id; value is trimmed, and
// "" is the file's "no change". country is the member's country, against which a postal code is
// checked as the file's country column would have it checked ("" or FI: a Finnish postal code).
// A problem is ErrInvalid naming the field: campaigns.Invalid(field, reason).
func MemberField(externalID, field, value, country string) (MemberRow, error) {
	if field == "external_id" || (!slices.Contains(MemberColumns, field) && !slices.Contains(MemberOptionalColumns, field)) {
		return MemberRow{}, campaigns.Invalid("field", fmt.Sprintf("%q is not a member field", field))
	}
	values := map[string]string{"external_id": strings.TrimSpace(externalID), field: strings.TrimSpace(value)}
	if field == "postal_code" {
		values["country"] = strings.TrimSpace(country)
	}
	var problems []RowError
	for _, f := range []string{"external_id", field} {
		if err := campaigns.CheckField(f, values[f]); err != nil {
			problems = append(problems, RowError{Field: f, Reason: err.Error()})
		}
	}
	m, more := parseMember(0, func(c string) string { return values[c] })
	if problems = firstPerField(append(problems, more...)); len(problems) > 0 {
		return MemberRow{}, campaigns.Invalid(problems[0].Field, problems[0].Reason)
	}
	if field != "country" {
		m.Country = ""
	}
	return m, nil
}

// parseMember checks the fields of one member row, reading each column with get, and returns the
// row with every problem found, each on line.
func parseMember(line int, get func(column string) string) (MemberRow, []RowError) {
	// Every problem of the row is reported, not only the first: the person fixing the file fixes
	// the row once.
	var problems []RowError
	bad := func(field, reason string) {
		problems = append(problems, RowError{Line: line, Field: field, Reason: reason})
	}
	m := MemberRow{
		Line:       line,
		ExternalID: get("external_id"),
		FirstName:  get("first_name"),
		LastName:   get("last_name"),
		Street:     get("street"),
		PostalCode: get("postal_code"),
		City:       get("city"),
		Country:    strings.ToUpper(get("country")),
	}
	if m.ExternalID == "" {
		bad("external_id", "is empty")
	} else if len(m.ExternalID) > 64 {
		bad("external_id", "is longer than 64 characters")
	}
	if v := get("email"); v != "" {
		if e, err := campaigns.NormalizeEmail(v); err != nil {
			bad("email", err.Error())
		} else {
			m.Email = e
		}
	}
	if v := get("phone"); v != "" {
		if p, kind, err := phone.Normalize(v); err != nil {
			bad("phone", err.Error())
		} else {
			sms := kind.SMS()
			m.Phone, m.PhoneSMS = p, &sms
		}
	}
	if m.Country != "" && (len(m.Country) != 2 || strings.ToUpper(m.Country) != m.Country || !isLetters(m.Country)) {
		bad("country", fmt.Sprintf("%q is not a two-letter country code", m.Country))
	}
	if m.PostalCode != "" && (m.Country == "" || m.Country == "FI") && !campaigns.ValidPostalCode(m.PostalCode) {
		bad("postal_code", fmt.Sprintf("%q is not a Finnish postal code (five digits)", m.PostalCode))
	}
	if v := get("language"); v != "" {
		if l, err := campaigns.ParseLanguage(v); err != nil {
			bad("language", err.Error())
		} else {
			m.Language = string(l)
		}
	}
	flags := []struct {
		col string
		dst **bool
	}{
		{"email_consent", &m.EmailConsent}, {"sms_consent", &m.SMSConsent},
		{"postal_objection", &m.PostalObjection}, {"address_protected", &m.AddressProtected},
		{"deceased", &m.Deceased},
	}
	for _, f := range flags {
		v := get(f.col)
		b, ok := parseFlag(v)
		if !ok {
			bad(f.col, fmt.Sprintf("%q is not yes, no or empty", v))
		}
		*f.dst = b
	}
	return m, problems
}

func isLetters(s string) bool {
	for _, r := range s {
		if r < 'A' || r > 'Z' {
			return false
		}
	}
	return true
}
