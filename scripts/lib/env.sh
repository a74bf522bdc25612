# Shared by the scripts: keep wrangler and workerd fully offline and quiet.
export WRANGLER_SEND_METRICS=false
export CLOUDFLARE_CF_FETCH_ENABLED=false
export WRANGLER_HIDE_BANNER=true
export NPM_CONFIG_UPDATE_NOTIFIER=false
