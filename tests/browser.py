"""Headless Chromium for the dashboard test: Debian's chromium and chromium-driver, driven by
selenium. Found at /usr/bin (or on PATH); installed with apt-get when missing and we are
root; otherwise the test fails and says how to get them."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking")
HINT = "install Debian's chromium and chromium-driver (sudo apt-get install chromium chromium-driver)"


def _find() -> tuple[str, str] | None:
    browser = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
    driver = shutil.which("chromedriver") or (
        "/usr/bin/chromedriver" if Path("/usr/bin/chromedriver").exists() else None
    )
    return (browser, driver) if browser and driver else None


def chromium_paths() -> tuple[str, str]:
    """(chromium, chromedriver), installing them through apt-get when root and missing."""
    found = _find()
    if found is None and os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for command in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", "chromium", "chromium-driver"]):
            subprocess.run(command, check=False, capture_output=True, env=env, timeout=900)
        found = _find()
    if found is None:
        raise RuntimeError(f"the dashboard browser test needs headless Chromium and its driver: {HINT}")
    return found


def chromium(width: int = 1280, height: int = 900) -> webdriver.Chrome:
    browser, driver = chromium_paths()
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--window-size={width},{height}")
    return webdriver.Chrome(options=options, service=Service(executable_path=driver))


def screenshot(driver: webdriver.Chrome, path: Path, *, width: int) -> Path:
    """The whole page at ``width`` CSS pixels (the window is stretched to the page's height)."""
    driver.set_window_size(width, 900)
    height = int(driver.execute_script("return document.documentElement.scrollHeight"))
    driver.set_window_size(width, min(height + 140, 8000))  # + the browser's own chrome
    path.parent.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(path))
    return path
