package config

import (
	"fmt"
	"os"
	"reflect"
)

// File is a YAML file other than the main configuration (an evaluation
// sequence's sequence.yml, say) decoded with the same rules, so its errors
// read like the configuration's: file:line: key: message.
type File struct {
	Name  string
	lines map[string]int
}

// DecodeFile decodes the YAML file at path into v, a pointer to a struct
// whose fields carry yaml tags. Values already in v are defaults: keys the
// file leaves out keep them, and list elements of the configuration's own
// types (Line, Camera, Rule) start from their defaults. Unknown keys,
// duplicate keys and values of the wrong type are all reported, one *Error
// each, joined in file order.
func DecodeFile(path string, v any) (*File, error) {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return nil, fmt.Errorf("decode %s: want a non-nil pointer to a struct, got %T", path, v)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	d := newDecoder(path)
	if err := d.document(data, rv.Elem()); err != nil {
		return nil, err
	}
	if len(d.errs) > 0 {
		return nil, joinSorted(d.errs)
	}
	return &File{Name: path, lines: d.lines}, nil
}

// Has reports whether the key at path (e.g. lines[0].band) was written.
func (f *File) Has(path string) bool {
	_, ok := f.lines[path]
	return ok
}

// Line is where path was written, or where its nearest written parent was
// when the value is a default; 0 when nothing on the way was written.
func (f *File) Line(path string) int {
	return (&validator{c: &Config{file: f.Name, keyLines: f.lines}}).lineOf(path)
}

// Errorf returns an *Error for the key at path, located in the file.
func (f *File) Errorf(path, format string, args ...any) error {
	return &Error{File: f.Name, Line: f.Line(path), Path: path, Msg: fmt.Sprintf(format, args...)}
}

// ValidateLines checks counting lines decoded from the list at path exactly
// as a camera's lines are checked (unique names, two distinct points,
// direction names, band, confirm_frames, entrance); names must be unique
// in the list.
func (f *File) ValidateLines(path string, lines []Line) error {
	v := &validator{c: &Config{file: f.Name, keyLines: f.lines}}
	first := map[string]string{} // name -> path of its first use
	for i, l := range lines {
		lp := joinIndex(path, i)
		if v.check(l.Name != "", lp+".name", "required") {
			if p, dup := first[l.Name]; dup {
				v.check(false, lp+".name", "duplicate line name %q (first used %s)", l.Name, v.where(p))
			} else {
				first[l.Name] = lp + ".name"
			}
		}
		v.countingLine(lp, l)
	}
	if len(v.errs) == 0 {
		return nil
	}
	return joinSorted(v.errs)
}
