"""What the operations centre's data endpoints answer with."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class DistrictPopulation(BaseModel):
    """Registered residents of one district."""

    model_config = ConfigDict(frozen=True)

    code: str = Field(description="行政区划代码 six-digit division code", examples=["440106"])
    name: str = Field(description="中文名称", examples=["天河区"])
    name_en: str = Field(description="English name", examples=["Tianhe"])
    population: int = Field(ge=0, description="登记居民数 registered citizens living there")
