"""Static tables the synthetic population draws from.

Weights are rough, public-statistics shaped figures for Guangzhou (the seventh national
census of 2020 and common surname rankings for Guangdong); they make the synthetic city
look right on a chart, not reproduce any real person.
"""

from __future__ import annotations

# The tables below are laid out by hand for reading; keep the formatter off them.
# fmt: off

# Surnames with relative frequency in Guangdong (陈 and 李 lead; Cantonese names such as
# 梁, 麦, 区, 司徒 are more common here than nationally).
SURNAMES: tuple[tuple[str, float], ...] = (
    ("陈", 9.5), ("李", 7.2), ("黄", 6.6), ("张", 5.0), ("梁", 4.3), ("林", 4.1),
    ("刘", 4.0), ("吴", 3.0), ("罗", 2.8), ("杨", 2.6), ("周", 2.2), ("郑", 2.2),
    ("何", 2.1), ("叶", 2.0), ("谢", 1.9), ("朱", 1.7), ("冯", 1.6), ("邓", 1.6),
    ("曾", 1.6), ("彭", 1.3), ("许", 1.3), ("潘", 1.2), ("蔡", 1.2), ("钟", 1.2),
    ("卢", 1.1), ("郭", 1.1), ("苏", 1.0), ("徐", 1.0), ("胡", 1.0), ("余", 1.0),
    ("王", 1.9), ("赖", 0.8), ("江", 0.8), ("莫", 0.8), ("谭", 0.8), ("马", 0.7),
    ("邱", 0.7), ("陆", 0.6), ("孙", 0.6), ("廖", 0.9), ("严", 0.4), ("麦", 0.5),
    ("区", 0.3), ("关", 0.5), ("温", 0.5), ("方", 0.5), ("袁", 0.5), ("唐", 0.5),
    ("赵", 0.6), ("高", 0.5), ("杜", 0.3), ("邹", 0.4), ("傅", 0.3), ("韩", 0.3),
    ("汤", 0.3), ("龙", 0.3), ("姚", 0.3), ("简", 0.2), ("伍", 0.4), ("骆", 0.2),
    ("岑", 0.2), ("霍", 0.2), ("沈", 0.3), ("戴", 0.2), ("孔", 0.2), ("欧阳", 0.3),
    ("司徒", 0.15), ("招", 0.1), ("植", 0.05), ("丘", 0.15),
)

# Characters of given names. A given name is one character (a quarter of people) or two.
MALE_NAME_CHARACTERS = (
    "伟强军杰磊涛斌勇明超刚平辉鹏华飞鑫波宇浩俊峰志文建锋晨博健毅彬凯睿轩昊泽子宏家嘉振国荣海德源天立扬成"
)
FEMALE_NAME_CHARACTERS = (
    "芳娜敏静丽婷雪琳颖慧秀霞燕玲萍红洁倩莉佳欣怡梅晶妍月雨琪诗思婉瑶菲媛悦晓嘉丹凤蓉薇翠楠彤子涵可心宁璐"
)
TWO_CHARACTER_GIVEN_NAME_SHARE = 0.75

MALE_SHARE = 0.51  # Guangzhou's sex ratio is slightly above 100

# Age pyramid: share (percent) of each five-year band 0-4, 5-9, ..., 95-99. Guangzhou's
# census pyramid bulges at 25-39: young workers who moved to the city.
AGE_BAND_SHARES: tuple[float, ...] = (
    5.6, 5.0, 3.9, 4.4, 8.6, 11.0, 11.6, 9.4, 8.0, 7.4,
    6.4, 4.8, 3.6, 3.3, 2.3, 1.5, 1.0, 0.6, 0.25, 0.08,
)

# Household sizes 1..5 (Guangzhou averages about 2.4 people per household).
HOUSEHOLD_SIZE_SHARES: tuple[float, ...] = (0.28, 0.30, 0.22, 0.13, 0.07)

# Mobile number prefixes of the three operators.
MOBILE_PREFIXES: tuple[int, ...] = (
    130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 145, 147, 150, 151, 152, 153, 155,
    156, 157, 158, 159, 166, 170, 173, 175, 176, 177, 178, 180, 181, 182, 183, 184, 185,
    186, 187, 188, 189, 191, 193, 195, 196, 197, 198, 199,
)
PHONE_FROM_AGE = 12

# Occupations of working-age people, with relative weight.
OCCUPATIONS: tuple[tuple[str, float], ...] = (
    ("制造业工人", 12.0), ("销售人员", 8.0), ("商业服务人员", 7.0), ("办事人员", 6.0),
    ("工程技术人员", 6.0), ("餐饮服务人员", 6.0), ("个体经营者", 6.0), ("建筑工人", 5.0),
    ("软件工程师", 4.0), ("教师", 3.0), ("物流人员", 3.0), ("待业人员", 3.0),
    ("金融从业人员", 2.5), ("快递员", 2.5), ("公务员", 2.0), ("会计", 2.0), ("厨师", 2.0),
    ("外卖骑手", 2.0), ("保安", 2.0), ("自由职业者", 2.0), ("医生", 1.5), ("护士", 1.5),
    ("网约车司机", 1.5), ("货车司机", 1.5), ("家政服务员", 1.5), ("物业管理人员", 1.5),
    ("设计师", 1.5), ("农业生产人员", 1.5), ("科研人员", 1.0), ("律师", 0.5),
)
PRESCHOOL = "学龄前儿童"
PUPIL = "学生"
UNIVERSITY_STUDENT = "大学生"
RETIRED = "离退休人员"
UNIVERSITY_SHARE_18_22 = 0.55
RETIREMENT_AGE_MALE = 60
RETIREMENT_AGE_FEMALE = 55
STILL_WORKING_AFTER_RETIREMENT_AGE = 0.15

# Legal representatives are adults of these ages.
REPRESENTATIVE_AGES = (22, 70)

# Industries (GB/T 4754 sections) with relative weight and the words companies of that
# industry put in their names.
INDUSTRIES: tuple[tuple[str, float, tuple[str, ...]], ...] = (
    ("批发和零售业", 30.0, ("贸易", "商贸", "电子商务", "进出口")),
    ("信息传输、软件和信息技术服务业", 14.0, ("科技", "信息技术", "网络科技", "软件")),
    ("租赁和商务服务业", 14.0, ("企业管理咨询", "商务服务", "广告", "人力资源")),
    ("科学研究和技术服务业", 8.0, ("生物科技", "检测技术", "工程设计", "技术开发")),
    ("制造业", 9.0, ("电子", "机械制造", "服装", "化工", "食品")),
    ("建筑业", 5.0, ("建筑工程", "装饰工程", "建设工程")),
    ("住宿和餐饮业", 4.0, ("餐饮管理", "酒店管理", "饮食")),
    ("交通运输、仓储和邮政业", 4.0, ("物流", "运输", "供应链管理")),
    ("房地产业", 3.0, ("房地产开发", "物业管理", "房地产经纪")),
    ("居民服务、修理和其他服务业", 3.0, ("家政服务", "汽车维修", "美容")),
    ("文化、体育和娱乐业", 3.0, ("文化传播", "影视", "体育发展")),
    ("金融业", 1.5, ("投资", "融资租赁", "资产管理")),
    ("教育", 1.5, ("教育科技", "培训")),
    ("卫生和社会工作", 1.0, ("医疗管理", "健康管理")),
    ("农、林、牧、渔业", 0.5, ("农业发展", "园林绿化")),
)

# Characters of trade names (字号): two are drawn for each company.
TRADE_NAME_CHARACTERS = (
    "华盛汇鑫达恒瑞博创智诚信联宏泰新嘉和远海金美佳德众合天安富明星光荣兴隆源通昌顺"
    "威正广中粤穗越秀云峰晟誉铭锦腾飞骏卓越凯辉"
)

# Company registrations grow year on year; registration years run from this year to the
# seed's reference date, weighted by exp(growth * years since the start).
FIRST_REGISTRATION_YEAR = 1990
REGISTRATION_GROWTH = 0.12
# From this year on, new organisation codes are assigned by market regulation with the
# "MA" prefix; older ones are eight digits.
MA_PREFIX_FROM_YEAR = 2016
# fmt: on
