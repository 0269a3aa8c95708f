package api

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/jacksmood/dispatch/campaigns"
)

// Errors of a request body that are answered with their own status, not 422.
var (
	// errBodyTooLarge is answered 413: the body is over the limit, and nothing was done.
	errBodyTooLarge = errors.New("request body too large")
	// errNotJSON is answered 415: the API reads application/json bodies only, so that a web page
	// cannot post to it with a form (text/plain, multipart) without a CORS preflight.
	errNotJSON = errors.New("unsupported media type")
)

// readJSONBody reads a JSON request body strictly, for v's type: Content-Type application/json, at
// most limit bytes (errBodyTooLarge otherwise: a body over the limit is never read as no body),
// valid UTF-8, exactly one JSON value, and in every object no key twice and each key spelled
// exactly as the field it sets (encoding/json alone would take "Status" or a second "status"). An
// empty body is allowed when allowEmpty; then v is left alone. It returns the body's bytes.
func readJSONBody(r *http.Request, limit int64, v any, allowEmpty bool) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, campaigns.Errorf(campaigns.ErrInvalid, "request body: %v", err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%w: at most %d bytes", errBodyTooLarge, limit)
	}
	if len(bytes.TrimSpace(data)) == 0 && allowEmpty {
		return data, nil
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return nil, fmt.Errorf("%w: send the body as Content-Type: application/json", errNotJSON)
	}
	if !utf8.Valid(data) {
		return nil, campaigns.Errorf(campaigns.ErrInvalid, "request body is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := checkJSON(dec, reflect.TypeOf(v), ""); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, campaigns.Errorf(campaigns.ErrInvalid, "request body: more than one JSON value")
	}
	strict := json.NewDecoder(bytes.NewReader(data))
	strict.DisallowUnknownFields()
	if err := strict.Decode(v); err != nil {
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) {
			return nil, campaigns.Invalid(ute.Field, fmt.Sprintf("wrong type (%s)", ute.Value))
		}
		return nil, campaigns.Errorf(campaigns.ErrInvalid, "request body: %s", strings.TrimPrefix(err.Error(), "json: "))
	}
	return data, nil
}

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// checkJSON reads one JSON value from dec, checking each object against t: for a struct, every key
// must be one of its fields' JSON names, exactly, and no key may repeat; maps only refuse repeats.
// Values of types that decode themselves are only read.
func checkJSON(dec *json.Decoder, t reflect.Type, path string) error {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	tok, err := dec.Token()
	if err != nil {
		return campaigns.Errorf(campaigns.ErrInvalid, "request body is not valid JSON: %v", strings.TrimPrefix(err.Error(), "json: "))
	}
	delim, ok := tok.(json.Delim)
	if !ok || (delim != '{' && delim != '[') {
		return nil
	}
	custom := t != nil && (reflect.PointerTo(t).Implements(jsonUnmarshaler) || reflect.PointerTo(t).Implements(textUnmarshaler))
	if delim == '[' {
		var elem reflect.Type
		if t != nil && !custom && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			elem = t.Elem()
		}
		for i := 0; dec.More(); i++ {
			if err := checkJSON(dec, elem, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		_, err := dec.Token()
		return err
	}
	fields := map[string]reflect.Type{}
	isStruct := t != nil && !custom && t.Kind() == reflect.Struct
	if isStruct {
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" || !f.IsExported() {
				continue
			}
			if name == "" {
				name = f.Name
			}
			fields[name] = f.Type
		}
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return campaigns.Errorf(campaigns.ErrInvalid, "request body is not valid JSON: %v", strings.TrimPrefix(err.Error(), "json: "))
		}
		key := tok.(string)
		at := strings.TrimPrefix(path+"."+key, ".")
		if seen[key] {
			return campaigns.Invalid(at, "appears twice")
		}
		seen[key] = true
		var elem reflect.Type
		switch {
		case isStruct:
			ft, ok := fields[key]
			if !ok {
				return campaigns.Errorf(campaigns.ErrInvalid, "unknown field %q", at)
			}
			elem = ft
		case t != nil && !custom && t.Kind() == reflect.Map:
			elem = t.Elem()
		}
		if err := checkJSON(dec, elem, at); err != nil {
			return err
		}
	}
	_, err = dec.Token()
	return err
}
