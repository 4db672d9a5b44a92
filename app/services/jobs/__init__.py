"""Ad-video jobs: brief -> storyboard -> review -> scene videos -> music -> one composed MP4."""
