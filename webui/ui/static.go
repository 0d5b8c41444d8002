package ui

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"

	"github.com/gin-gonic/gin"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// asset is one static file and its content hash.
type asset struct {
	body        []byte
	hash        string
	contentType string
}

// assets are the static files by name; each is served as
// /static/<name-without-ext>.<hash>.<ext>, cached forever, so a new binary
// with a changed file gets a new URL.
type assets struct {
	byName map[string]*asset
	byURL  map[string]*asset
}

func loadAssets() (*assets, error) {
	a := &assets{byName: map[string]*asset{}, byURL: map[string]*asset{}}
	err := fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		name := path.Base(p)
		ext := path.Ext(name)
		as := &asset{body: b, hash: hex.EncodeToString(sum[:6]), contentType: mime.TypeByExtension(ext)}
		a.byName[name] = as
		a.byURL[strings.TrimSuffix(name, ext)+"."+as.hash+ext] = as
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("ui: static files: %w", err)
	}
	return a, nil
}

// url is the hashed URL of the static file name (a template function).
func (a *assets) url(name string) string {
	as, ok := a.byName[name]
	if !ok {
		return "/static/missing-" + name
	}
	ext := path.Ext(name)
	return "/static/" + strings.TrimSuffix(name, ext) + "." + as.hash + ext
}

// Weight is the total size of the static files in bytes (the page weight
// benchmark reads it).
func (a *assets) weight() int {
	n := 0
	for _, as := range a.byName {
		n += len(as.body)
	}
	return n
}

func (h *Handler) serveStatic(c *gin.Context) {
	as, ok := h.static.byURL[c.Param("file")]
	if !ok {
		c.String(http.StatusNotFound, "no such file")
		return
	}
	c.Header("Cache-Control", "public, max-age=31536000, immutable")
	c.Header("X-Content-Type-Options", "nosniff")
	c.Data(http.StatusOK, as.contentType, as.body)
}
