package lifecycle

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/store"
)

// ManifestFormat names the layout of an export archive; it changes only when a reader of
// older archives would misread a newer one.
const ManifestFormat = "paotui-tenant-export/1"

// versionTable is goose's bookkeeping, not the tenant's data.
const versionTable = "goose_db_version"

// Manifest is manifest.json, the first file of an export archive.
type Manifest struct {
	Format      string          `json:"format"`
	ExportID    string          `json:"exportId"`
	Tenant      ManifestTenant  `json:"tenant"`
	GeneratedAt time.Time       `json:"generatedAt"`
	Tables      []ManifestTable `json:"tables"`
	// DecryptedColumns are sealed personal-data columns exported in clear, as
	// "table.column_enc -> column".
	DecryptedColumns []string `json:"decryptedColumns"`
	// OmittedColumns are blind indexes: keyed hashes only the platform can use.
	OmittedColumns []string `json:"omittedColumns"`
	// SealedAsStored are columns that look sealed but whose field is unknown to this version;
	// they are exported as stored (hex ciphertext), which is useless without the platform's keys.
	SealedAsStored []string `json:"sealedAsStored"`
	// Undecryptable counts, per column, values that did not open; they are exported as null.
	Undecryptable map[string]int64 `json:"undecryptable,omitempty"`
	Notes         []string         `json:"notes"`
}

// ManifestTenant identifies the exported tenant.
type ManifestTenant struct {
	ID   int64  `json:"id"`
	Slug string `json:"slug"`
	Name string `json:"name"`
}

// ManifestTable describes one table's two files.
type ManifestTable struct {
	Name    string   `json:"name"`
	Rows    int64    `json:"rows"`
	Columns []string `json:"columns"`
	Files   []string `json:"files"`
}

var manifestNotes = []string{
	"Every table of the service's database is here twice: <table>.json (an array of row objects) and <table>.csv (a header row, then one line per row), with the same rows.",
	"All tables were read in one statement, so they show the data at one single moment.",
	"Times are ISO 8601 with their UTC offset; money is in minor units (分); binary values are hex strings starting with \\x.",
	"Personal data the service stores encrypted (phones, names, student numbers, order forms, delivery codes, chat messages) is decrypted; the keyed hashes kept for look-ups are left out.",
}

// Opener opens values sealed with one tenant's keyset; *pii.Cipher implements it.
type Opener interface {
	Decrypt(field string, ciphertext []byte) (string, error)
}

type column struct {
	name  string // in the database
	out   string // in the export; "" when omitted
	role  columnRole
	field string // pii field of a sealed column
}

type table struct {
	name    string
	columns []column
	rows    int64
	spool   *os.File
	w       *bufio.Writer
}

func (t *table) outColumns() []string {
	var out []string
	for _, c := range t.columns {
		if c.out != "" {
			out = append(out, c.out)
		}
	}
	return out
}

// snapshot is the tenant's data read from the database, spooled to files in dir as one JSON
// object per line and table, in the export's column order.
type snapshot struct {
	dir           string
	tables        []*table
	takenAt       time.Time
	undecryptable map[string]int64
}

func (s *snapshot) close() {
	for _, t := range s.tables {
		if t.spool != nil {
			_ = t.spool.Close()
		}
	}
}

// readSnapshot reads every table of tx's schema into files under dir. tx must be a tenant
// transaction (store.InTenant) that has not written.
//
// Consistency: InTenant opens a READ COMMITTED transaction and has already run a statement
// (setting the search path) by the time fn gets it, so its isolation level can no longer be
// raised to REPEATABLE READ. All tables are read by a single UNION ALL statement instead,
// and a statement sees one snapshot whatever the isolation level: an order and its ledger
// journal are either both in the archive or both absent. The transaction is also made READ
// ONLY, which PostgreSQL still allows at this point, so the export cannot change anything.
func readSnapshot(tx *gorm.DB, c Opener, dir string) (*snapshot, error) {
	if err := tx.Exec(`SET TRANSACTION READ ONLY`).Error; err != nil {
		return nil, fmt.Errorf("read-only export transaction: %w", err)
	}
	s := &snapshot{dir: dir, undecryptable: map[string]int64{}}
	var cols []struct{ Rel, Col string }
	err := tx.Raw(`SELECT c.relname AS rel, a.attname AS col
		FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
		WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
		  AND c.relname <> ? AND a.attnum > 0 AND NOT a.attisdropped
		ORDER BY c.relname, a.attnum`, versionTable).Scan(&cols).Error
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	for _, rc := range cols {
		if len(s.tables) == 0 || s.tables[len(s.tables)-1].name != rc.Rel {
			s.tables = append(s.tables, &table{name: rc.Rel})
		}
		t := s.tables[len(s.tables)-1]
		role, field := roleOf(rc.Rel, rc.Col)
		col := column{name: rc.Col, out: rc.Col, role: role, field: field}
		switch role {
		case omittedColumn:
			col.out = ""
		case sealedColumn:
			col.out = strings.TrimSuffix(rc.Col, sealedSuffix)
		}
		t.columns = append(t.columns, col)
	}
	if len(s.tables) == 0 {
		return nil, errors.New("the tenant schema has no tables")
	}
	for _, t := range s.tables {
		f, err := os.CreateTemp(dir, "spool-*.ndjson")
		if err != nil {
			s.close()
			return nil, err
		}
		t.spool, t.w = f, bufio.NewWriterSize(f, 64<<10)
	}
	var q strings.Builder
	for i, t := range s.tables {
		if i > 0 {
			q.WriteString(" UNION ALL ")
		}
		// Unqualified on purpose: the name resolves in the tenant's search path only.
		fmt.Fprintf(&q, "SELECT %d AS t, row_to_json(x)::text AS r FROM %s AS x", i, store.QuoteIdent(t.name))
	}
	s.takenAt = time.Now().UTC()
	rows, err := tx.Raw(q.String()).Rows()
	if err != nil {
		s.close()
		return nil, fmt.Errorf("read tables: %w", err)
	}
	defer rows.Close()
	var (
		idx int
		raw []byte
		buf bytes.Buffer
	)
	for rows.Next() {
		if err := rows.Scan(&idx, &raw); err != nil {
			s.close()
			return nil, fmt.Errorf("read row: %w", err)
		}
		// The parallel executor may interleave tables, so each row goes to its table's spool.
		t := s.tables[idx]
		buf.Reset()
		if err := s.encodeRow(&buf, t, raw, c); err != nil {
			s.close()
			return nil, fmt.Errorf("table %s: %w", t.name, err)
		}
		buf.WriteByte('\n')
		if _, err := t.w.Write(buf.Bytes()); err != nil {
			s.close()
			return nil, err
		}
		t.rows++
	}
	if err := rows.Err(); err != nil {
		s.close()
		return nil, fmt.Errorf("read tables: %w", err)
	}
	for _, t := range s.tables {
		if err := t.w.Flush(); err != nil {
			s.close()
			return nil, err
		}
	}
	return s, nil
}

// encodeRow writes one row of t, as PostgreSQL's row_to_json rendered it, as a JSON object
// in the export's column order, with sealed columns opened and blind indexes left out.
func (s *snapshot) encodeRow(w *bytes.Buffer, t *table, raw []byte, c Opener) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return fmt.Errorf("decode row: %w", err)
	}
	w.WriteByte('{')
	first := true
	for _, col := range t.columns {
		if col.out == "" {
			continue
		}
		if !first {
			w.WriteByte(',')
		}
		first = false
		writeString(w, col.out)
		w.WriteByte(':')
		v, ok := m[col.name]
		if !ok || v == nil {
			v = json.RawMessage("null")
		}
		if col.role == sealedColumn {
			var err error
			if v, err = open(v, col.field, c); err != nil {
				s.undecryptable[t.name+"."+col.name]++
				v = json.RawMessage("null")
			}
		}
		w.Write(v)
	}
	w.WriteByte('}')
	return nil
}

// open decrypts a bytea value as row_to_json renders it ("\\x<hex>") into a JSON string.
func open(v json.RawMessage, field string, c Opener) (json.RawMessage, error) {
	if string(v) == "null" {
		return v, nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil || !strings.HasPrefix(s, `\x`) {
		return nil, errors.New("not a bytea value")
	}
	ct, err := hex.DecodeString(s[2:])
	if err != nil {
		return nil, err
	}
	pt, err := c.Decrypt(field, ct)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	writeString(&b, pt)
	return b.Bytes(), nil
}

// writeString writes s as a JSON string without escaping <, > and &, which are ordinary
// characters in a data file.
func writeString(w *bytes.Buffer, s string) {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	w.Truncate(w.Len() - 1) // Encode's newline
}

// archive is a finished export file on local disk.
type archive struct {
	path     string
	size     int64
	manifest *Manifest
}

// writeArchive writes the snapshot as a zip in s.dir: manifest.json, then <table>.json and
// <table>.csv for every table.
func (s *snapshot) writeArchive(m *Manifest) (*archive, error) {
	for _, t := range s.tables {
		m.Tables = append(m.Tables, ManifestTable{Name: t.name, Rows: t.rows, Columns: t.outColumns(),
			Files: []string{t.name + ".json", t.name + ".csv"}})
		for _, col := range t.columns {
			ref := t.name + "." + col.name
			switch col.role {
			case sealedColumn:
				m.DecryptedColumns = append(m.DecryptedColumns, ref+" -> "+col.out)
			case omittedColumn:
				m.OmittedColumns = append(m.OmittedColumns, ref)
			case unknownSealed:
				m.SealedAsStored = append(m.SealedAsStored, ref)
			}
		}
	}
	m.GeneratedAt, m.Format, m.Notes = s.takenAt, ManifestFormat, manifestNotes
	m.DecryptedColumns = nonNil(m.DecryptedColumns)
	m.OmittedColumns = nonNil(m.OmittedColumns)
	m.SealedAsStored = nonNil(m.SealedAsStored)
	if len(s.undecryptable) > 0 {
		m.Undecryptable = s.undecryptable
	}
	f, err := os.Create(filepath.Join(s.dir, "export.zip"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zw := zip.NewWriter(f)
	entry := func(name string) (io.Writer, error) {
		return zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: s.takenAt})
	}
	w, err := entry("manifest.json")
	if err != nil {
		return nil, err
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return nil, err
	}
	for _, t := range s.tables {
		if err := s.writeTable(t, entry); err != nil {
			return nil, fmt.Errorf("table %s: %w", t.name, err)
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	return &archive{path: f.Name(), size: info.Size(), manifest: m}, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	slices.Sort(s)
	return s
}

func (s *snapshot) writeTable(t *table, entry func(string) (io.Writer, error)) error {
	w, err := entry(t.name + ".json")
	if err != nil {
		return err
	}
	if _, err := io.WriteString(w, "["); err != nil {
		return err
	}
	n := 0
	err = s.eachLine(t, func(line []byte) error {
		sep := ",\n"
		if n == 0 {
			sep = "\n"
		}
		n++
		if _, err := io.WriteString(w, sep); err != nil {
			return err
		}
		_, err := w.Write(line)
		return err
	})
	if err != nil {
		return err
	}
	end := "\n]\n"
	if n == 0 {
		end = "]\n"
	}
	if _, err := io.WriteString(w, end); err != nil {
		return err
	}

	if w, err = entry(t.name + ".csv"); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	header := t.outColumns()
	if err := cw.Write(header); err != nil {
		return err
	}
	record := make([]string, len(header))
	err = s.eachLine(t, func(line []byte) error {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(line, &m); err != nil {
			return err
		}
		for i, name := range header {
			record[i] = csvCell(m[name])
		}
		return cw.Write(record)
	})
	if err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

// eachLine calls fn with every spooled row of t.
func (s *snapshot) eachLine(t *table, fn func([]byte) error) error {
	if _, err := t.spool.Seek(0, io.SeekStart); err != nil {
		return err
	}
	r := bufio.NewReaderSize(t.spool, 64<<10)
	for {
		line, err := r.ReadBytes('\n')
		if len(line) > 1 {
			if ferr := fn(line[:len(line)-1]); ferr != nil {
				return ferr
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// csvCell renders a JSON value as a CSV field: strings as their text, null as an empty field,
// numbers and booleans as written, objects and arrays as JSON.
func csvCell(v json.RawMessage) string {
	if len(v) == 0 || string(v) == "null" {
		return ""
	}
	if v[0] == '"' {
		var s string
		if err := json.Unmarshal(v, &s); err == nil {
			return s
		}
	}
	return string(v)
}
