// `npm run size`: what <tidekv-inspector> adds to an app that imports it (@tidekv/client external).
import '@tidekv/inspector'
