"""Template helpers of ckanext-pegel (registered by the helpers blanket)."""
