// The bundled configuration is three readable files (gateway settings, the
// provider catalog, the model registry); the core takes them as one document.
export function composeConfig(gateway, providers, models) {
  return JSON.stringify({ gateway: gateway.gateway, providers: providers.providers, models: models.models });
}
