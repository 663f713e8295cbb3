package sandbox

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"time"
)

// Emitter sends a provider sandbox's webhooks the way providers do: POST
// the raw JSON with the provider's signature headers, retried on failure
// (on a compressed schedule: 1 s, 2 s, 4 s, 8 s) in the background.
type Emitter struct {
	HTTP *http.Client
	// Delays between attempts; the default is the compressed schedule.
	Delays []time.Duration
}

// Send posts body to url with headers, retrying in the background.
func (e *Emitter) Send(url string, headers map[string]string, body []byte) {
	hc := e.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	delays := e.Delays
	if delays == nil {
		delays = []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second}
	}
	go func() {
		for attempt := 0; ; attempt++ {
			req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, url, bytes.NewReader(body))
			if err != nil {
				return
			}
			req.Header.Set("Content-Type", "application/json")
			for k, v := range headers {
				req.Header.Set(k, v)
			}
			res, err := hc.Do(req)
			if err == nil {
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode/100 == 2 {
					return
				}
			}
			if attempt >= len(delays) {
				return
			}
			time.Sleep(delays[attempt])
		}
	}()
}
