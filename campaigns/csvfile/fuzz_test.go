package csvfile

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf8"

	"github.com/jacksmood/dispatch/campaigns"
	"github.com/jacksmood/dispatch/campaigns/phone"
)

// memberRead is what ReadMembers made of a file.
type memberRead struct {
	rows     []MemberRow
	rejected []RowError
	err      error
}

func readMemberFile(r io.Reader) memberRead {
	var m memberRead
	m.rejected, m.err = ReadMembers(r, "members.csv", func(row MemberRow) error {
		m.rows = append(m.rows, row)
		return nil
	})
	return m
}

// memberRecord is row as a line of a member file with every column, in MemberColumns then
// MemberOptionalColumns order.
func memberRecord(row MemberRow) []string {
	return []string{row.ExternalID, row.FirstName, row.LastName, row.Email, row.Phone, row.Street,
		row.PostalCode, row.City, row.Country, row.Language, FormatFlag(row.EmailConsent), FormatFlag(row.SMSConsent),
		FormatFlag(row.PostalObjection), FormatFlag(row.AddressProtected), FormatFlag(row.Deceased)}
}

// FuzzReadMembers reads any bytes as a member file and checks:
//   - the file is read the same whole, a byte at a time and in halves;
//   - it is refused whole (a *FileError and no row), or every row comes out once, either clean or
//     rejected: clean rows in file order, on lines after the header, none also rejected, their
//     external ids unique, every field of them as CheckField wants it, the email and phone in the
//     form that normalises to itself, the phone's SMS flag set with it, a two-letter upper-case
//     country, a Finnish postal code unless another country is given, a language of the register;
//   - rejections name a line after the header and a column of the file;
//   - the clean rows, written out as a member file (as an export would), read back as the same
//     rows.
func FuzzReadMembers(f *testing.F) {
	opt := memberHeader + ",address_protected,deceased"
	f.Add([]byte(memberHeader + "\n" + memberLine(nil) + "\n"))
	f.Add([]byte("\xEF\xBB\xBF" + memberHeader + "\r\n" + memberLine(map[string]string{"external_id": "M2", "postal_objection": "yes"}) + "\r\n"))
	f.Add([]byte(opt + "\nM9,,,,,,,,,,,,,,\nM9,,,,,,,,,,,,,yes,no\n" + memberLine(map[string]string{"phone": "+358 (0)9 123 4567", "country": "se", "postal_code": "111 51"}, "address_protected", "deceased") + "\n"))
	f.Add([]byte(strings.ReplaceAll(memberHeader, ",", ";") + "\nM1;Aino;\"Virtanen; jr\";aino@example.fi;;\"c/o Virtanen\nKoivutie 2\";00100;Espoo;FI;sv;no;;\n"))
	f.Add([]byte(memberHeader + "\nM1,Matti,\"Meik\xe4l\xe4inen\",,,,,,,,,,\n"))
	f.Add([]byte("external_id,email\n..,x@y\n"))
	f.Add([]byte(memberHeader + "\n\x00,\"a\"\"b,\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		whole := readMemberFile(bytes.NewReader(data))
		for name, r := range map[string]io.Reader{
			"a byte at a time": iotest.OneByteReader(bytes.NewReader(data)),
			"in halves":        iotest.HalfReader(bytes.NewReader(data)),
		} {
			if got := readMemberFile(r); !reflect.DeepEqual(got, whole) {
				t.Fatalf("read %s: %+v\nread whole: %+v", name, got, whole)
			}
		}
		if whole.err != nil {
			var fe *FileError
			if !errors.As(whole.err, &fe) || fe.Name != "members.csv" || fe.Line < 1 {
				t.Fatalf("err = %v (%T), want a *FileError with its line", whole.err, whole.err)
			}
			if fe.Line == 1 && (len(whole.rows) > 0 || len(whole.rejected) > 0) {
				t.Fatalf("a header refused with rows read: %+v", whole)
			}
		}
		columns := append(slices.Clone(MemberColumns), MemberOptionalColumns...)
		lines := map[int]bool{}
		ids := map[string]bool{}
		for i, row := range whole.rows {
			if row.Line < 2 || (i > 0 && row.Line <= whole.rows[i-1].Line) {
				t.Fatalf("row %d on line %d, after line %d", i, row.Line, whole.rows[max(i-1, 0)].Line)
			}
			lines[row.Line] = true
			if row.ExternalID == "" || ids[row.ExternalID] {
				t.Fatalf("line %d: external id %q empty or repeated", row.Line, row.ExternalID)
			}
			ids[row.ExternalID] = true
			checkMemberRow(t, row, columns)
		}
		for _, r := range whole.rejected {
			if r.Line < 2 || !slices.Contains(columns, r.Field) || r.Reason == "" || lines[r.Line] {
				t.Fatalf("rejection %+v (clean lines %v)", r, lines)
			}
		}
		if whole.err != nil || len(whole.rows) == 0 {
			return
		}

		var out bytes.Buffer
		w := csv.NewWriter(&out)
		w.Write(columns)
		for _, row := range whole.rows {
			w.Write(memberRecord(row))
		}
		w.Flush()
		back := readMemberFile(bytes.NewReader(out.Bytes()))
		if back.err != nil || len(back.rejected) > 0 || len(back.rows) != len(whole.rows) {
			t.Fatalf("the clean rows written out:\n%s\nread back as %+v", out.Bytes(), back)
		}
		for i, row := range back.rows {
			want := whole.rows[i]
			want.Line = row.Line
			if !reflect.DeepEqual(row, want) {
				t.Fatalf("row %+v written out reads back as %+v", want, row)
			}
		}
	})
}

// checkMemberRow fails unless row is a clean member row (see FuzzReadMembers).
func checkMemberRow(t *testing.T, row MemberRow, columns []string) {
	t.Helper()
	for i, v := range memberRecord(row) {
		if err := campaigns.CheckField(columns[i], v); err != nil || v != strings.TrimSpace(v) {
			t.Fatalf("line %d: %s %q: %v", row.Line, columns[i], v, err)
		}
	}
	if row.Email != "" {
		if e, err := campaigns.NormalizeEmail(row.Email); err != nil || e != row.Email {
			t.Fatalf("line %d: email %q normalises to %q (%v)", row.Line, row.Email, e, err)
		}
	}
	if row.Phone != "" {
		p, kind, err := phone.Normalize(row.Phone)
		if err != nil || p != row.Phone || row.PhoneSMS == nil || *row.PhoneSMS != kind.SMS() {
			t.Fatalf("line %d: phone %q normalises to %q (%v), SMS %v", row.Line, row.Phone, p, err, row.PhoneSMS)
		}
	} else if row.PhoneSMS != nil {
		t.Fatalf("line %d: an SMS flag without a phone", row.Line)
	}
	if c := row.Country; c != "" && (len(c) != 2 || c[0] < 'A' || c[0] > 'Z' || c[1] < 'A' || c[1] > 'Z') {
		t.Fatalf("line %d: country %q", row.Line, c)
	}
	if row.PostalCode != "" && (row.Country == "" || row.Country == "FI") && !campaigns.ValidPostalCode(row.PostalCode) {
		t.Fatalf("line %d: Finnish postal code %q", row.Line, row.PostalCode)
	}
	if l := row.Language; l != "" && l != "fi" && l != "sv" && l != "en" {
		t.Fatalf("line %d: language %q", row.Line, l)
	}
}

// FuzzMemberField checks that MemberField, which the console's member edit calls, reads a field
// as ReadMembers reads it in a file: the same value refused (naming the same field, for the same
// reason) or taken, and taken to the same row (with the other fields "no change"). A value with a carriage return, which a CSV file reads as
// a line break, or that is not UTF-8, which refuses the whole file, and a country with a control
// character (the register holds none) are only checked to be refused or taken without a panic,
// and to name the field when refused.
func FuzzMemberField(f *testing.F) {
	f.Add("A1", "email", " Aino@Example.COM ", "FI")
	f.Add("A1", "phone", "040 123 4567", "FI")
	f.Add("A1", "postal_code", "11151", "SE")
	f.Add("A1", "postal_code", "1115", "fi")
	f.Add("A1", "street", "c/o Virtanen\nKoivutie 2", "")
	f.Add("..", "deceased", "Yes", "FI")
	f.Add("A1", "external_id", "A2", "FI")
	f.Add("A1", "colour", "red", "XX")
	f.Fuzz(func(t *testing.T, externalID, field, value, country string) {
		got, err := MemberField(externalID, field, value, country)
		if err != nil {
			var fe *campaigns.FieldError
			if !errors.Is(err, campaigns.ErrInvalid) || !errors.As(err, &fe) || (fe.Field != "field" && fe.Field != "external_id" && fe.Field != field && fe.Field != "country") {
				t.Fatalf("MemberField(%q, %q, %q, %q) = %v", externalID, field, value, country, err)
			}
			if fe.Field == "country" && field != "country" && field != "postal_code" {
				t.Fatalf("MemberField(%q, %q, %q, %q) = %v", externalID, field, value, country, err)
			}
		}
		columns := append(slices.Clone(MemberColumns), MemberOptionalColumns...)
		if field == "external_id" || !slices.Contains(columns, field) {
			if err == nil {
				t.Fatalf("MemberField(%q, %q) took a field that is not one: %+v", externalID, field, got)
			}
			return
		}
		for _, s := range []string{externalID, value, country} {
			if strings.ContainsRune(s, '\r') || !utf8.ValidString(s) {
				return
			}
		}
		// The country beside a postal code is the member's, which the register holds checked:
		// MemberField reads it for the postal code and does not check it as a field of its own,
		// as the file does its country column.
		if field == "postal_code" && campaigns.CheckField("country", strings.TrimSpace(country)) != nil {
			return
		}
		record := make([]string, len(columns))
		record[0] = externalID
		record[slices.Index(columns, field)] = value
		if field == "postal_code" {
			record[slices.Index(columns, "country")] = country
		}
		var file bytes.Buffer
		w := csv.NewWriter(&file)
		w.Write(columns)
		w.Write(record)
		w.Flush()
		read := readMemberFile(bytes.NewReader(file.Bytes()))
		if read.err != nil {
			t.Fatalf("file %q: %v", file.Bytes(), read.err)
		}
		if (err == nil) != (len(read.rows) == 1) {
			t.Fatalf("MemberField(%q, %q, %q, %q) = %+v, %v; the file reads %+v", externalID, field, value, country, got, err, read)
		}
		if err != nil {
			var fe *campaigns.FieldError
			errors.As(err, &fe)
			if read.rejected[0].Field != fe.Field || read.rejected[0].Reason != fe.Reason {
				t.Fatalf("MemberField(%q, %q, %q, %q) = %v; the file: %v", externalID, field, value, country, err, read.rejected[0])
			}
			return
		}
		want := read.rows[0]
		want.Line = 0
		if field != "country" {
			want.Country = ""
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("MemberField(%q, %q, %q, %q) = %+v; the file reads %+v", externalID, field, value, country, got, want)
		}
	})
}
