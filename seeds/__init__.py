"""The curated, sourced records that ship with statetech."""
