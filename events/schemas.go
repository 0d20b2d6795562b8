package events

import (
	"embed"
	"fmt"
	"io/fs"
)

//go:embed schemas/*.schema.json
var schemaFS embed.FS

// Schemas is the set of JSON Schema (draft 2020-12) files, one per event
// type plus envelope.schema.json, for serving or writing out.
func Schemas() fs.FS {
	sub, err := fs.Sub(schemaFS, "schemas")
	if err != nil {
		panic(err) // the embedded directory exists at compile time
	}
	return sub
}

// Schema returns the JSON Schema of an event type's data, or of the
// envelope itself when name is "envelope".
func Schema(name string) ([]byte, error) {
	b, err := schemaFS.ReadFile("schemas/" + name + ".schema.json")
	if err != nil {
		return nil, fmt.Errorf("events: no schema for %q: %w", name, err)
	}
	return b, nil
}
