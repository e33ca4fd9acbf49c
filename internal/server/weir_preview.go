package server

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/weir-dev/weir/internal/run"
)

// Preview limits.
const (
	previewTextMax = 1 << 20  // HTML and Markdown text
	previewSniff   = 64 << 10 // what is read to tell a format
	previewRows    = 20       // rows or lines of a data preview
	previewLineMax = 4 << 10  // one line of a text preview
)

// preview is a typed view of an artifact. Kind says which fields are set:
//
//	metrics                 metrics: name -> number
//	classification_metrics  confusion_matrix and/or confidence_metrics
//	html, markdown          text (truncated says whether it was cut)
//	table                   format (csv, tsv), columns, rows
//	json_lines              records
//	text                    lines
//	none                    note (and size)
type preview struct {
	ArtifactID        string           `json:"artifact_id"`
	Type              string           `json:"type"`
	Kind              string           `json:"kind"`
	Size              int64            `json:"size"`
	Metrics           map[string]any   `json:"metrics,omitempty"`
	ConfusionMatrix   *confusionMatrix `json:"confusion_matrix,omitempty"`
	ConfidenceMetrics []any            `json:"confidence_metrics,omitempty"`
	Text              *string          `json:"text,omitempty"`
	Truncated         bool             `json:"truncated,omitempty"`
	Format            string           `json:"format,omitempty"`
	Columns           []string         `json:"columns,omitempty"`
	Rows              [][]string       `json:"rows,omitempty"`
	Records           []any            `json:"records,omitempty"`
	Lines             []string         `json:"lines,omitempty"`
	Note              string           `json:"note,omitempty"`
}

// confusionMatrix is kfp's log_confusion_matrix, flattened: labels and a
// square matrix of counts (rows are actual, columns predicted classes).
type confusionMatrix struct {
	Labels []string `json:"labels"`
	Rows   [][]any  `json:"rows"`
}

// artifactPreview serves a typed preview of an artifact: metrics from its
// metadata, HTML and Markdown text, the first rows of a data file.
func (s *Server) artifactPreview(w http.ResponseWriter, r *http.Request) {
	a, err := s.store.ArtifactByID(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, err)
		return
	}
	p := &preview{ArtifactID: a.ID, Type: a.SchemaTitle, Size: a.Size}
	switch a.SchemaTitle {
	case "system.Metrics":
		metricsPreview(p, a)
	case "system.ClassificationMetrics":
		classificationPreview(p, a)
	case "system.HTML", "system.Markdown":
		err = s.textPreview(p, a)
	case "system.Dataset", "system.Artifact":
		err = s.dataPreview(p, a)
	default:
		p.Kind, p.Note = "none", fmt.Sprintf("no preview for %s artifacts: download the content", a.SchemaTitle)
	}
	if err != nil {
		writeWeirError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

func metricsPreview(p *preview, a *run.Artifact) {
	p.Kind, p.Metrics = "metrics", map[string]any{}
	for k, v := range a.Metadata {
		switch v.(type) {
		case int64, float64, json.Number:
			p.Metrics[k] = v
		}
	}
}

func classificationPreview(p *preview, a *run.Artifact) {
	p.Kind = "classification_metrics"
	if cm, ok := a.Metadata["confusionMatrix"].(map[string]any); ok {
		m := &confusionMatrix{Labels: []string{}, Rows: [][]any{}}
		specs, _ := cm["annotationSpecs"].([]any)
		for _, sp := range specs {
			name, _ := sp.(map[string]any)["displayName"].(string)
			m.Labels = append(m.Labels, name)
		}
		rows, _ := cm["rows"].([]any)
		for _, row := range rows {
			cells, _ := row.(map[string]any)["row"].([]any)
			if cells == nil {
				cells = []any{}
			}
			m.Rows = append(m.Rows, cells)
		}
		p.ConfusionMatrix = m
	}
	if cms, ok := a.Metadata["confidenceMetrics"].([]any); ok {
		p.ConfidenceMetrics = cms
	}
	if p.ConfusionMatrix == nil && p.ConfidenceMetrics == nil {
		p.Note = "the metadata holds no confusionMatrix and no confidenceMetrics"
	}
}

// regularContent resolves an artifact's content and opens it when it is a
// file; for a directory it fills the preview's note and returns nil.
func (s *Server) regularContent(p *preview, a *run.Artifact) (*os.File, error) {
	real, fi, err := s.localContent(a)
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		n := 0
		_ = filepath.WalkDir(real, func(_ string, d fs.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() {
				n++
			}
			if n > 10000 {
				return filepath.SkipAll
			}
			return nil
		})
		p.Kind, p.Note = "none", fmt.Sprintf("a directory of %d files: download it as a tar.gz", n)
		return nil, nil
	}
	p.Size = fi.Size()
	return os.Open(real)
}

func (s *Server) textPreview(p *preview, a *run.Artifact) error {
	f, err := s.regularContent(p, a)
	if f == nil || err != nil {
		return err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, previewTextMax+1))
	if err != nil {
		return err
	}
	if len(b) > previewTextMax {
		b, p.Truncated = b[:previewTextMax], true
	}
	text := strings.ToValidUTF8(string(b), "\uFFFD")
	p.Kind, p.Text = strings.ToLower(strings.TrimPrefix(a.SchemaTitle, "system.")), &text
	return nil
}

// dataPreview shows the first rows of a CSV, TSV or JSON-lines file, or
// the first lines of a text file.
func (s *Server) dataPreview(p *preview, a *run.Artifact) error {
	f, err := s.regularContent(p, a)
	if f == nil || err != nil {
		return err
	}
	defer f.Close()
	head := make([]byte, previewSniff)
	n, err := io.ReadFull(f, head)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return err
	}
	head = head[:n]
	format := sniffFormat(f.Name(), head, n < previewSniff)
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	in := io.LimitReader(f, previewTextMax)
	switch format {
	case "csv", "tsv":
		return tablePreview(p, in, format)
	case "json_lines":
		return jsonLinesPreview(p, in)
	case "text":
		return linesPreview(p, in)
	}
	p.Kind, p.Note = "none", "binary content: download it"
	return nil
}

// sniffFormat tells csv, tsv, json_lines, text or binary from a file's
// name and first bytes (all of them when complete).
func sniffFormat(name string, head []byte, complete bool) string {
	if bytes.IndexByte(head, 0) >= 0 {
		return "binary"
	}
	valid := head
	if !complete {
		// Do not judge a character cut by the end of the sample.
		for i := 0; i < utf8.UTFMax-1 && len(valid) > 0; i++ {
			if r, size := utf8.DecodeLastRune(valid); r != utf8.RuneError || size != 1 {
				break
			}
			valid = valid[:len(valid)-1]
		}
	}
	if !utf8.Valid(valid) {
		return "binary"
	}
	switch strings.ToLower(filepath.Ext(name)) {
	case ".csv":
		return "csv"
	case ".tsv", ".tab":
		return "tsv"
	case ".jsonl", ".ndjson":
		return "json_lines"
	}
	lines := sampleLines(head, complete)
	if len(lines) == 0 {
		return "text"
	}
	jsonl := true
	for _, l := range lines {
		t := strings.TrimSpace(l)
		jsonl = jsonl && strings.HasPrefix(t, "{") && json.Valid([]byte(t))
	}
	if jsonl {
		return "json_lines"
	}
	if len(lines) >= 2 {
		if sameFieldCount(lines, '\t') {
			return "tsv"
		}
		if sameFieldCount(lines, ',') {
			return "csv"
		}
	}
	return "text"
}

// sampleLines returns up to previewRows+1 non-empty whole lines of head.
func sampleLines(head []byte, complete bool) []string {
	text := string(head)
	if !complete {
		if i := strings.LastIndexByte(text, '\n'); i >= 0 {
			text = text[:i]
		}
	}
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if l = strings.TrimRight(l, "\r"); strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
		if len(out) > previewRows {
			break
		}
	}
	return out
}

// sameFieldCount reports whether every line splits into the same number
// (at least 2) of fields on sep, quotes respected.
func sameFieldCount(lines []string, sep rune) bool {
	r := csv.NewReader(strings.NewReader(strings.Join(lines, "\n")))
	r.Comma, r.LazyQuotes = sep, true
	want := -1
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return want >= 2
		}
		if err != nil || (want >= 0 && len(rec) != want) {
			return false
		}
		want = len(rec)
	}
}

func tablePreview(p *preview, in io.Reader, format string) error {
	r := csv.NewReader(in)
	r.LazyQuotes, r.FieldsPerRecord = true, -1
	if format == "tsv" {
		r.Comma = '\t'
	}
	p.Kind, p.Format, p.Rows = "table", format, [][]string{}
	header, err := r.Read()
	if err == io.EOF {
		p.Columns = []string{}
		return nil
	}
	if err != nil {
		p.Kind, p.Format, p.Rows = "none", "", nil
		p.Note = fmt.Sprintf("not readable as %s: %v", strings.ToUpper(format), err)
		return nil
	}
	p.Columns = header
	for len(p.Rows) < previewRows {
		rec, err := r.Read()
		if err != nil {
			break // the end, or a row cut by the read limit
		}
		p.Rows = append(p.Rows, rec)
	}
	return nil
}

func jsonLinesPreview(p *preview, in io.Reader) error {
	p.Kind, p.Records = "json_lines", []any{}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), previewTextMax)
	for sc.Scan() && len(p.Records) < previewRows {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			v = string(line) // shown as it is
		}
		p.Records = append(p.Records, v)
	}
	return nil
}

func linesPreview(p *preview, in io.Reader) error {
	p.Kind, p.Lines = "text", []string{}
	br := bufio.NewReader(in)
	for len(p.Lines) < previewRows {
		line, err := br.ReadString('\n')
		if line != "" || err == nil {
			line = strings.TrimRight(line, "\r\n")
			if len(line) > previewLineMax {
				line = strings.ToValidUTF8(line[:previewLineMax], "") + "…"
			}
			p.Lines = append(p.Lines, line)
		}
		if err != nil {
			break
		}
	}
	return nil
}
