/**
 * UI preferences: theme (follows the OS `prefers-color-scheme` unless overridden) and language
 * (zh-CN / en, switchable at run time). Kept in localStorage.
 */
import { defineStore } from 'pinia'
import { computed, ref, watch } from 'vue'
import { i18n, type Locale } from '../i18n.js'

export type ThemePref = 'auto' | 'light' | 'dark'

export const useUi = defineStore('ui', () => {
  const media = window.matchMedia('(prefers-color-scheme: dark)')
  const osDark = ref(media.matches)
  media.addEventListener('change', (e) => (osDark.value = e.matches))

  const theme = ref<ThemePref>((localStorage.getItem('sluice.theme') as ThemePref | null) ?? 'auto')
  const dark = computed(() => (theme.value === 'auto' ? osDark.value : theme.value === 'dark'))
  const initialLocale = (localStorage.getItem('sluice.locale') as Locale | null) ?? (navigator.language.toLowerCase().startsWith('zh') ? 'zh-CN' : 'en')
  const locale = ref<Locale>(initialLocale)

  watch(theme, (v) => localStorage.setItem('sluice.theme', v))
  watch(
    locale,
    (v) => {
      localStorage.setItem('sluice.locale', v)
      i18n.global.locale.value = v
      document.documentElement.lang = v
    },
    { immediate: true },
  )
  watch(dark, (d) => document.documentElement.classList.toggle('dark', d), { immediate: true })

  return { theme, dark, locale, osDark }
})
