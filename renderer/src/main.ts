/** Renderer entry: Vue app with Pinia and vue-i18n; Monaco is set up lazily by the editors. */
import { createPinia } from 'pinia'
import { createApp } from 'vue'
import App from './App.vue'
import { i18n } from './i18n.js'
import './style.css'

createApp(App).use(createPinia()).use(i18n).mount('#app')
