package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/kycd/kycd/webhook"
)

// cmdWebhooksListen runs a local webhook receiver for developers: it
// verifies each delivery's Standard Webhooks signature with the endpoint's
// secret and prints the event (or why it refused it).
func cmdWebhooksListen(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var (
		port   int
		secret string
		host   string
	)
	fs := newFlags("webhooks listen", getenv, stderr)
	fs.int(&port, "port", 8181, "port to listen on (0: any free port)")
	fs.string(&host, "host", "127.0.0.1", "address to listen on")
	fs.string(&secret, "secret", "", "the endpoint's signing secret (whsec_...)")
	if err := fs.parse(args); err != nil {
		return err
	}
	if err := webhook.CheckSecret(secret); err != nil {
		return fmt.Errorf("--secret: %w", err)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return err
	}
	var mu sync.Mutex // one event printed at a time
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			fmt.Fprintf(stdout, "%s  refused: unreadable body\n", time.Now().Format(time.TimeOnly))
			http.Error(w, "unreadable body", http.StatusBadRequest)
			return
		}
		if err := webhook.Verify(secret, body, r.Header); err != nil {
			fmt.Fprintf(stdout, "%s  refused %s: %v\n", time.Now().Format(time.TimeOnly), r.Header.Get("webhook-id"), err)
			http.Error(w, "signature does not verify", http.StatusUnauthorized)
			return
		}
		var ev struct {
			ID   string `json:"id"`
			Type string `json:"type"`
		}
		_ = json.Unmarshal(body, &ev)
		var pretty any
		_ = json.Unmarshal(body, &pretty)
		out, _ := json.MarshalIndent(pretty, "  ", "  ")
		fmt.Fprintf(stdout, "%s  %s  %s (signature ok)\n  %s\n", time.Now().Format(time.TimeOnly), ev.Type, ev.ID, out)
		w.WriteHeader(http.StatusNoContent)
	})}
	fmt.Fprintf(stdout, "listening on http://%s: register it as an endpoint URL (kycd needs --allow-private-network to post to it)\n", ln.Addr())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shut); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
