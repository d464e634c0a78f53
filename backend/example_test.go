package backend_test

import (
	"fmt"

	"github.com/patchbay/patchbay/backend"
)

// Validation reports every problem at once, each with the field it concerns,
// so a form can mark them all and a CLI can print them all.
func ExampleConnector_Validate() {
	c := &backend.Connector{
		Name: "  Team Wiki  ",
		URL:  "http://wiki.example.com/mcp",
		Auth: backend.Auth{Type: backend.AuthAPIKey, APIKey: &backend.APIKeyAuth{
			Name:  "X API Key",
			Value: &backend.Secret{Value: "${WIKI_TOKEN}"},
		}},
		Headers: []backend.Header{{Name: "Host", Value: "wiki.internal"}},
	}
	c.Normalize()
	fmt.Println(c.Name, c.Slug, c.Auth.APIKey.Value)
	fmt.Println(c.Validate())
	// Output:
	// Team Wiki team-wiki ${WIKI_TOKEN}
	// The connector has 3 problem(s).
	//   url: uses plain http:// for a host that is not this machine; use https:// so credentials are encrypted
	//   auth.api_key.name: "X API Key" is not a valid header name (letters, digits and !#$%&'*+-.^_`|~ only, no spaces or colons)
	//   headers[0].name: Host is set by Patchbay itself and cannot be customised
	// Correct the fields listed and try again; nothing was saved.
}

func ExampleSlugify() {
	fmt.Println(backend.Slugify("Café Déjà Vu (prod)", backend.MaxSlugLen))
	// Output: cafe-deja-vu-prod
}
